//go:build tools

// Package tools pins the Go programs this project builds for itself.
package tools

import (
	_ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
)
