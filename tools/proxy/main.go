// Command caddy is Caddy with its standard modules and this project's `slot`
// modules (package slot): the reverse proxy in front of a release's service,
// whose upstream the release switch sets through the admin API without a
// config reload, so no client connection is ever closed by a switch.
package main

import (
	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	_ "deploy-release/proxy/slot"
	_ "github.com/caddyserver/caddy/v2/modules/standard"
)

func main() {
	caddycmd.Main()
}
