package main

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/errdefs"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// containerInputs are Container's inputs this stand-in implements.
var containerInputs = []string{"name", "image", "command", "entrypoints", "envs", "labels", "networkMode", "hostname",
	"user", "workingDir", "restart", "maxRetryCount", "mustRun", "start", "wait", "waitTimeout", "healthcheck",
	"destroyGraceSeconds", "stopSignal", "stopTimeout", "removeVolumes", "rm", "attach", "logs",
	"containerReadRefreshTimeoutMilliseconds", "uploads"}

// containerInPlace are the inputs that change without a new container
// (resource_docker_container.go: no ForceNew). Only restart and
// maxRetryCount reach Docker (resourceDockerContainerUpdate); the rest change
// the state only. Every other input forces a new container.
var containerInPlace = map[string]bool{"restart": true, "maxRetryCount": true, "mustRun": true, "start": true,
	"wait": true, "waitTimeout": true, "healthcheck": true, "destroyGraceSeconds": true, "removeVolumes": true,
	"rm": true, "attach": true, "logs": true, "containerReadRefreshTimeoutMilliseconds": true}

var containerForceNew = func() map[string]bool {
	m := map[string]bool{}
	for _, k := range containerInputs {
		if !containerInPlace[k] {
			m[k] = true
		}
	}
	return m
}()

// containerSets are the inputs compared as sets (TypeSet upstream): order never matters.
var containerSets = map[string]bool{"envs": true, "labels": true}

// containerDefaults are the schema defaults that the bridge's Check fills in.
var containerDefaults = map[string]any{"mustRun": true, "start": true, "wait": false, "waitTimeout": float64(60),
	"removeVolumes": true, "restart": "no", "rm": false, "attach": false, "logs": false, "maxRetryCount": float64(0),
	"networkMode": "bridge", "containerReadRefreshTimeoutMilliseconds": float64(15000)}

func checkContainer(urn string, olds, news map[string]any, seed []byte) (map[string]any, []string) {
	var failures []string
	in := merge(news, nil)
	var defaulted []any
	keys := make([]string, 0, len(containerDefaults))
	for k := range containerDefaults {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if _, ok := in[k]; !ok {
			in[k] = containerDefaults[k]
			defaulted = append(defaulted, k)
		}
	}
	if v, ok := in["image"]; !ok || (v == "" && !isUnknown(v)) {
		failures = append(failures, failure("image", "Missing required property 'image'"))
	}
	// Auto-naming: <resource name>-<7 hex> from the engine's seed, kept across updates via __defaults.
	if _, ok := in["name"]; !ok {
		if old, _ := olds["name"].(string); old != "" && hasDefault(olds, "name") {
			in["name"] = old
		} else {
			in["name"] = autoName(resource.URN(urn).Name(), seed)
		}
		defaulted = append(defaulted, "name")
	}
	in["__defaults"] = defaulted
	if r, _ := in["restart"].(string); r != "" && !contains([]string{"no", "on-failure", "always", "unless-stopped"}, r) {
		failures = append(failures, failure("restart", fmt.Sprintf("expected restart to match ^(no|on-failure|always|unless-stopped)$, got %s", r)))
	}
	if cmd, ok := in["command"].([]any); ok {
		for _, c := range cmd {
			if c == "" {
				failures = append(failures, failure("command", "values for command may not be empty"))
				break
			}
		}
	}
	for k := range in {
		if !contains(containerInputs, k) && k != "__defaults" {
			failures = append(failures, failure(k, fmt.Sprintf("%s is not supported by this stand-in of the docker provider", k)))
		}
	}
	return in, failures
}

func hasDefault(m map[string]any, key string) bool {
	list, _ := m["__defaults"].([]any)
	for _, x := range list {
		if x == key {
			return true
		}
	}
	return false
}

// autoName is name-<7 hex>, derived from the engine's random seed so a preview and the update agree.
func autoName(name string, seed []byte) string {
	const hex = "0123456789abcdef"
	b := make([]byte, 7)
	for i := range b {
		var x byte
		if i < len(seed) {
			x = seed[i]
		}
		b[i] = hex[int(x)%16]
	}
	return name + "-" + string(b)
}

func strs(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func num(v any, def float64) float64 {
	if f, ok := v.(float64); ok {
		return f
	}
	return def
}

// duration parses a healthcheck duration; a malformed one is 0, as upstream ignores the parse error.
func duration(v any) time.Duration {
	s, _ := v.(string)
	d, _ := time.ParseDuration(s)
	return d
}

func configOf(in map[string]any) (*container.Config, *container.HostConfig) {
	cfg := &container.Config{Image: fmt.Sprint(in["image"]), Labels: map[string]string{}}
	cfg.Env = strs(in["envs"])
	sort.Strings(cfg.Env)
	cfg.Cmd = strs(in["command"])
	if e := strs(in["entrypoints"]); len(e) > 0 {
		cfg.Entrypoint = e
	}
	cfg.Hostname, _ = in["hostname"].(string)
	cfg.User, _ = in["user"].(string)
	cfg.WorkingDir, _ = in["workingDir"].(string)
	cfg.StopSignal, _ = in["stopSignal"].(string)
	if t, ok := in["stopTimeout"].(float64); ok {
		n := int(t)
		cfg.StopTimeout = &n
	}
	if list, ok := in["labels"].([]any); ok {
		for _, l := range list {
			m, _ := l.(map[string]any)
			k, _ := m["label"].(string)
			v, _ := m["value"].(string)
			cfg.Labels[k] = v
		}
	}
	if hc, ok := in["healthcheck"].(map[string]any); ok {
		cfg.Healthcheck = &container.HealthConfig{
			Test: strs(hc["tests"]), Interval: duration(hc["interval"]), Timeout: duration(hc["timeout"]),
			StartPeriod: duration(hc["startPeriod"]), Retries: int(num(hc["retries"], 0)),
		}
	}
	host := &container.HostConfig{AutoRemove: in["rm"] == true}
	if nm, _ := in["networkMode"].(string); nm != "" {
		host.NetworkMode = container.NetworkMode(nm)
	}
	if r, _ := in["restart"].(string); r != "" {
		host.RestartPolicy = container.RestartPolicy{Name: container.RestartPolicyMode(r)}
		if r == "on-failure" {
			host.RestartPolicy.MaximumRetryCount = int(num(in["maxRetryCount"], 0))
		}
	}
	return cfg, host
}

// started records when this provider process last started a container
// (upstream's creationTime): a refresh in a new process has none.
var started struct {
	sync.Mutex
	at time.Time
}

func (p *dockerProvider) createContainer(ctx context.Context, in map[string]any, preview bool) (string, map[string]any, error) {
	out := merge(in, nil)
	if preview {
		return "", out, nil
	}
	if _, err := p.findImage(ctx, fmt.Sprint(in["image"]), ""); err != nil {
		return "", nil, fmt.Errorf("Unable to create container with image %s: %w", in["image"], err)
	}
	c, err := p.docker()
	if err != nil {
		return "", nil, err
	}
	cfg, host := configOf(in)
	name, _ := in["name"].(string)
	created, err := c.ContainerCreate(ctx, cfg, host, nil, nil, name)
	if err != nil {
		return "", nil, fmt.Errorf("Unable to create container: %w", err)
	}
	id := created.ID
	if list, ok := in["uploads"].([]any); ok && len(list) > 0 {
		archive, err := uploadsTar(list)
		if err == nil {
			err = c.CopyToContainer(ctx, id, "/", archive, container.CopyToContainerOptions{})
		}
		if err != nil {
			return id, out, partial(fmt.Errorf("Unable to upload volume content: %w", err))
		}
	}
	// From here on a failure leaves a partially created resource in the state, as upstream.
	if in["start"] != false {
		started.Lock()
		started.at = time.Now()
		started.Unlock()
		if err := c.ContainerStart(ctx, id, container.StartOptions{}); err != nil {
			return id, out, partial(fmt.Errorf("Unable to start container: %w", err))
		}
		if in["wait"] == true {
			if err := p.waitHealthy(ctx, id, time.Duration(num(in["waitTimeout"], 60))*time.Second); err != nil {
				return id, out, partial(err)
			}
		}
	}
	state, gone, err := p.readContainer(ctx, id, out)
	if err != nil {
		return id, out, partial(err)
	}
	if gone {
		return id, out, partial(fmt.Errorf("container %s is gone", id))
	}
	return id, state, nil
}

// uploadsTar packs the uploads into one tar for "/": each file with its
// permissions, else 0744 when executable, else 0644 (resourceDockerContainerCreate).
func uploadsTar(list []any) (io.Reader, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, u := range list {
		m, _ := u.(map[string]any)
		file, _ := m["file"].(string)
		var content []byte
		if s, ok := m["content"].(string); ok && s != "" {
			content = []byte(s)
		} else if s, ok := m["contentBase64"].(string); ok && s != "" {
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return nil, fmt.Errorf("contentBase64 of %s: %w", file, err)
			}
			content = b
		} else {
			return nil, fmt.Errorf("upload %s: one of content or contentBase64 is required by this stand-in", file)
		}
		mode := int64(0o644)
		if m["executable"] == true {
			mode = 0o744
		}
		if p, ok := m["permissions"].(string); ok && p != "" {
			v, err := strconv.ParseInt(p, 8, 64)
			if err != nil {
				return nil, fmt.Errorf("permissions %q of %s: %w", p, file, err)
			}
			mode = v
		}
		if err := tw.WriteHeader(&tar.Header{Name: strings.TrimPrefix(file, "/"), Mode: mode, Size: int64(len(content))}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(content); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return &buf, nil
}

// partialErr marks an error after the container exists.
type partialErr struct{ error }

func partial(err error) error { return partialErr{err} }

// waitHealthy polls the container's health at once and then every second
// until it is healthy; "unhealthy" keeps polling (resourceDockerContainerCreate).
func (p *dockerProvider) waitHealthy(ctx context.Context, id string, timeout time.Duration) error {
	c, err := p.docker()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		info, err := c.ContainerInspect(ctx, id)
		if ctx.Err() != nil {
			return fmt.Errorf("container failed to be in healthy state")
		}
		if err != nil {
			return err
		}
		if info.State == nil || info.State.Health == nil {
			return fmt.Errorf("you have supplied a 'wait' argument, but the container does not have a healthcheck defined. Please remove the 'wait' argument or add a 'healthcheck' attribute")
		}
		if info.State.Health.Status == "healthy" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("container failed to be in healthy state")
		case <-time.After(time.Second):
		}
	}
}

// readContainer refreshes the state from Docker (resourceDockerContainerRead).
// A container that must run but does not is deleted: silently when this
// process never started one, else with an error.
func (p *dockerProvider) readContainer(ctx context.Context, id string, state map[string]any) (map[string]any, bool, error) {
	c, err := p.docker()
	if err != nil {
		return nil, false, err
	}
	wait := time.Duration(num(state["containerReadRefreshTimeoutMilliseconds"], 15000)) * time.Millisecond
	if wait == 0 {
		wait = 15 * time.Second
	}
	deadline := time.Now().Add(wait)
	var info container.InspectResponse
	for {
		info, err = c.ContainerInspect(ctx, id)
		if errdefs.IsNotFound(err) {
			return nil, true, nil // gone: dropped from the state, no error
		}
		if err != nil {
			return nil, false, fmt.Errorf("Error inspecting container %s: %w", id, err)
		}
		if info.State.Running || state["mustRun"] == false || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !info.State.Running && state["mustRun"] != false {
		started.Lock()
		at := started.at
		started.Unlock()
		if derr := p.deleteContainer(ctx, id, state); derr != nil {
			return nil, false, derr
		}
		if at.IsZero() {
			return nil, true, nil
		}
		if finished, perr := time.Parse(time.RFC3339Nano, info.State.FinishedAt); perr == nil && finished.After(at) {
			return nil, false, fmt.Errorf("container exited immediately")
		}
		return nil, false, fmt.Errorf("container failed to be in running state")
	}
	out := merge(state, nil)
	out["name"] = strings.TrimPrefix(info.Name, "/")
	if img, _ := state["image"].(string); strings.HasPrefix(img, "sha256:") {
		out["image"] = info.Image
	} else if info.Config != nil {
		out["image"] = info.Config.Image
	}
	if info.Config != nil {
		out["hostname"] = info.Config.Hostname
		out["command"] = toAny(info.Config.Cmd)
		out["entrypoints"] = toAny(info.Config.Entrypoint)
		out["user"] = info.Config.User
		out["workingDir"] = info.Config.WorkingDir
		out["stopSignal"] = info.Config.StopSignal
		if info.Config.StopTimeout != nil {
			out["stopTimeout"] = float64(*info.Config.StopTimeout)
		}
		if hc := info.Config.Healthcheck; hc != nil {
			out["healthcheck"] = map[string]any{"tests": toAny(hc.Test), "interval": hc.Interval.String(),
				"timeout": hc.Timeout.String(), "startPeriod": hc.StartPeriod.String(),
				"startInterval": hc.StartInterval.String(), "retries": float64(hc.Retries)}
		}
	}
	if info.HostConfig != nil {
		out["networkMode"] = string(info.HostConfig.NetworkMode)
		out["restart"] = string(info.HostConfig.RestartPolicy.Name)
		out["maxRetryCount"] = float64(info.HostConfig.RestartPolicy.MaximumRetryCount)
		out["rm"] = info.HostConfig.AutoRemove
		out["logDriver"] = info.HostConfig.LogConfig.Type
	}
	if !info.State.Running {
		out["exitCode"] = float64(info.State.ExitCode)
	} else {
		delete(out, "exitCode")
	}
	return out, false, nil
}

func toAny(list []string) []any {
	out := make([]any, 0, len(list))
	for _, s := range list {
		out = append(out, s)
	}
	return out
}

// updateContainer sends only a restart-policy change to Docker and does not read back (resourceDockerContainerUpdate).
func (p *dockerProvider) updateContainer(ctx context.Context, id string, olds, news map[string]any, preview bool) (map[string]any, error) {
	out := merge(olds, news)
	if preview || (equal(olds["restart"], news["restart"]) && equal(olds["maxRetryCount"], news["maxRetryCount"])) {
		return out, nil
	}
	c, err := p.docker()
	if err != nil {
		return nil, err
	}
	_, host := configOf(news)
	if _, err := c.ContainerUpdate(ctx, id, container.UpdateConfig{RestartPolicy: host.RestartPolicy}); err != nil {
		return nil, fmt.Errorf("Unable to update a container: %w", err)
	}
	return out, nil
}

// deleteContainer stops the container with destroyGraceSeconds (0 when unset)
// and force-removes it (resourceDockerContainerDelete). A stop error,
// including a container already gone, fails the delete.
func (p *dockerProvider) deleteContainer(ctx context.Context, id string, state map[string]any) error {
	c, err := p.docker()
	if err != nil {
		return err
	}
	if state["attach"] != true {
		grace := int(num(state["destroyGraceSeconds"], 0))
		if err := c.ContainerStop(ctx, id, container.StopOptions{Timeout: &grace}); err != nil {
			return fmt.Errorf("Error stopping container %s: %w", id, err)
		}
	}
	ignorable := func(err error) bool {
		return err == nil || strings.Contains(err.Error(), "No such container") || strings.Contains(err.Error(), "is already in progress")
	}
	rm := state["rm"] == true
	if err := c.ContainerRemove(ctx, id, container.RemoveOptions{Force: true, RemoveVolumes: state["removeVolumes"] != false, RemoveLinks: rm}); !ignorable(err) {
		return fmt.Errorf("Error deleting container %s: %w", id, err)
	}
	cond := container.WaitConditionNotRunning
	if rm {
		cond = container.WaitConditionRemoved
	}
	waitC, errC := c.ContainerWait(ctx, id, cond)
	select {
	case <-waitC:
	case err := <-errC:
		if !ignorable(err) {
			return fmt.Errorf("Error waiting for container removal '%s': %w", id, err)
		}
	}
	return nil
}
