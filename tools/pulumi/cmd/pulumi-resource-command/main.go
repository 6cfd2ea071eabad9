// Command pulumi-resource-command is a resource provider for the
// `command:local:Command` resource of the @pulumi/command SDK.
//
// The upstream provider's Go module is not served by the module proxy that
// this project's build machines reach, so the project builds this
// implementation of the one resource it uses, following the upstream
// resource's documented contract:
//
//   - create runs on creation, update (if set) on a change of its inputs,
//     delete (if set) on deletion; each gets the `environment` map added to
//     the process environment and, for update and delete,
//     PULUMI_COMMAND_STDOUT / PULUMI_COMMAND_STDERR of the previous run.
//   - any change of `triggers` replaces the resource; so does any change of
//     create/environment/dir/interpreter/stdin when no update command is set.
//   - outputs are the inputs plus `stdout` and `stderr` (trimmed).
//   - a non-zero exit fails the step with the command's output.
//
// Inputs marked secret stay secret in outputs (the engine re-applies secret
// markers by property name, as Configure declares AcceptSecrets=false).
// Copying assets and remote (SSH) commands are not implemented.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"reflect"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/cmdutil"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

const resourceType = "command:local:Command"

// version is set at build time to the @pulumi/command SDK version it serves.
var version = "1.2.1"

// replaceKeys force a replacement when they change and no update command is set.
var replaceKeys = []string{"create", "environment", "dir", "interpreter", "stdin", "assetPaths", "archivePaths"}

// updateKeys change in place without running anything.
var updateKeys = []string{"update", "delete", "logging", "addPreviousOutputInEnv"}

type commandProvider struct {
	pulumirpc.UnimplementedResourceProviderServer
	host *provider.HostClient

	mu      sync.Mutex
	running map[*exec.Cmd]struct{}
}

func main() {
	err := provider.Main("command", func(host *provider.HostClient) (pulumirpc.ResourceProviderServer, error) {
		return &commandProvider{host: host, running: map[*exec.Cmd]struct{}{}}, nil
	})
	if err != nil {
		cmdutil.ExitError(err.Error())
	}
}

func (p *commandProvider) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

func (p *commandProvider) GetSchema(context.Context, *pulumirpc.GetSchemaRequest) (*pulumirpc.GetSchemaResponse, error) {
	return &pulumirpc.GetSchemaResponse{Schema: fmt.Sprintf(`{"name":"command","version":%q}`, version)}, nil
}

func (p *commandProvider) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

func (p *commandProvider) DiffConfig(context.Context, *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
}

func (p *commandProvider) Configure(context.Context, *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	return &pulumirpc.ConfigureResponse{AcceptSecrets: false, SupportsPreview: true}, nil
}

func checkType(urn string) error {
	if t := string(resource.URN(urn).Type()); t != resourceType {
		return fmt.Errorf("this command provider implements only %s, not %s", resourceType, t)
	}
	return nil
}

func (p *commandProvider) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	if err := checkType(req.GetUrn()); err != nil {
		return nil, err
	}
	var failures []*pulumirpc.CheckFailure
	news := req.GetNews().AsMap()
	if c, ok := news["create"]; ok && c != nil {
		if _, isString := c.(string); !isString {
			failures = append(failures, &pulumirpc.CheckFailure{Property: "create", Reason: "create must be a string"})
		}
	}
	return &pulumirpc.CheckResponse{Inputs: req.GetNews(), Failures: failures}, nil
}

func changed(olds, news map[string]any, key string) bool {
	return !reflect.DeepEqual(olds[key], news[key])
}

func (p *commandProvider) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	olds := req.GetOlds().AsMap()
	if oi := req.GetOldInputs(); oi != nil && len(oi.GetFields()) > 0 {
		olds = oi.AsMap()
	}
	news := req.GetNews().AsMap()
	hasUpdate := news["update"] != nil && news["update"] != ""

	var diffs, replaces []string
	detailed := map[string]*pulumirpc.PropertyDiff{}
	mark := func(key string, replace bool) {
		diffs = append(diffs, key)
		kind := pulumirpc.PropertyDiff_UPDATE
		if replace {
			replaces = append(replaces, key)
			kind = pulumirpc.PropertyDiff_UPDATE_REPLACE
		}
		detailed[key] = &pulumirpc.PropertyDiff{Kind: kind, InputDiff: true}
	}
	if changed(olds, news, "triggers") {
		mark("triggers", true)
	}
	for _, k := range replaceKeys {
		if changed(olds, news, k) {
			mark(k, !hasUpdate)
		}
	}
	for _, k := range updateKeys {
		if changed(olds, news, k) {
			mark(k, false)
		}
	}
	sort.Strings(diffs)
	resp := &pulumirpc.DiffResponse{
		Changes: pulumirpc.DiffResponse_DIFF_NONE, Diffs: diffs, Replaces: replaces,
		DetailedDiff: detailed, HasDetailedDiff: true,
	}
	if len(diffs) > 0 {
		resp.Changes = pulumirpc.DiffResponse_DIFF_SOME
	}
	return resp, nil
}

func newID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// withOutputs returns inputs plus stdout/stderr, or unknowns in a preview.
func withOutputs(inputs *structpb.Struct, stdout, stderr string, preview bool) *structpb.Struct {
	out := &structpb.Struct{Fields: map[string]*structpb.Value{}}
	for k, v := range inputs.GetFields() {
		out.Fields[k] = v
	}
	if preview {
		out.Fields["stdout"] = structpb.NewStringValue(plugin.UnknownStringValue)
		out.Fields["stderr"] = structpb.NewStringValue(plugin.UnknownStringValue)
	} else {
		out.Fields["stdout"] = structpb.NewStringValue(stdout)
		out.Fields["stderr"] = structpb.NewStringValue(stderr)
	}
	return out
}

func (p *commandProvider) Create(ctx context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	if err := checkType(req.GetUrn()); err != nil {
		return nil, err
	}
	in := req.GetProperties().AsMap()
	if req.GetPreview() {
		return &pulumirpc.CreateResponse{Properties: withOutputs(req.GetProperties(), "", "", true)}, nil
	}
	stdout, stderr := "", ""
	if c, _ := in["create"].(string); c != "" {
		var err error
		stdout, stderr, err = p.run(ctx, req.GetUrn(), "create", c, in, nil)
		if err != nil {
			return nil, err
		}
	}
	return &pulumirpc.CreateResponse{Id: newID(), Properties: withOutputs(req.GetProperties(), stdout, stderr, false)}, nil
}

func (p *commandProvider) Read(_ context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	return &pulumirpc.ReadResponse{Id: req.GetId(), Properties: req.GetProperties(), Inputs: req.GetInputs()}, nil
}

func (p *commandProvider) Update(ctx context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	olds := req.GetOlds().AsMap()
	news := req.GetNews().AsMap()
	prevOut, _ := olds["stdout"].(string)
	prevErr, _ := olds["stderr"].(string)
	u, _ := news["update"].(string)
	if u == "" {
		return &pulumirpc.UpdateResponse{Properties: withOutputs(req.GetNews(), prevOut, prevErr, false)}, nil
	}
	if req.GetPreview() {
		return &pulumirpc.UpdateResponse{Properties: withOutputs(req.GetNews(), "", "", true)}, nil
	}
	stdout, stderr, err := p.run(ctx, req.GetUrn(), "update", u, news, map[string]string{
		"PULUMI_COMMAND_STDOUT": prevOut, "PULUMI_COMMAND_STDERR": prevErr,
	})
	if err != nil {
		return nil, err
	}
	return &pulumirpc.UpdateResponse{Properties: withOutputs(req.GetNews(), stdout, stderr, false)}, nil
}

func (p *commandProvider) Delete(ctx context.Context, req *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	props := req.GetProperties().AsMap()
	d, _ := props["delete"].(string)
	if d == "" {
		return &emptypb.Empty{}, nil
	}
	prevOut, _ := props["stdout"].(string)
	prevErr, _ := props["stderr"].(string)
	_, _, err := p.run(ctx, req.GetUrn(), "delete", d, props, map[string]string{
		"PULUMI_COMMAND_STDOUT": prevOut, "PULUMI_COMMAND_STDERR": prevErr,
	})
	if err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}

func (p *commandProvider) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.running {
		if c.Process != nil {
			_ = syscall.Kill(-c.Process.Pid, syscall.SIGTERM)
		}
	}
	return &emptypb.Empty{}, nil
}

// tail keeps the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// run executes one command through its interpreter and streams each output
// line to the engine as an info message for the resource.
func (p *commandProvider) run(ctx context.Context, urn, step, script string, in map[string]any,
	extraEnv map[string]string,
) (string, string, error) {
	interp := []string{"/bin/sh", "-c"}
	if list, ok := in["interpreter"].([]any); ok && len(list) > 0 {
		interp = interp[:0]
		for _, v := range list {
			s, _ := v.(string)
			interp = append(interp, s)
		}
	}
	cmd := exec.Command(interp[0], append(interp[1:], script)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if dir, _ := in["dir"].(string); dir != "" {
		cmd.Dir = dir
	}
	env := os.Environ()
	if m, ok := in["environment"].(map[string]any); ok {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			env = append(env, fmt.Sprintf("%s=%v", k, m[k]))
		}
	}
	for k, v := range extraEnv {
		env = append(env, k+"="+v)
	}
	cmd.Env = env
	if stdin, _ := in["stdin"].(string); stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	logging, _ := in["logging"].(string)
	if logging == "" {
		logging = "stdoutAndStderr"
	}

	var stdout, stderr, combined bytes.Buffer
	var cmu sync.Mutex
	outR, outW := io.Pipe()
	errR, errW := io.Pipe()
	cmd.Stdout, cmd.Stderr = outW, errW
	var wg sync.WaitGroup
	pump := func(r io.Reader, buf *bytes.Buffer, log bool) {
		defer wg.Done()
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
		for sc.Scan() {
			line := sc.Text()
			cmu.Lock()
			buf.WriteString(line + "\n")
			combined.WriteString(line + "\n")
			cmu.Unlock()
			if log && p.host != nil {
				_ = p.host.Log(context.Background(), diag.Info, resource.URN(urn), line)
			}
		}
		_, _ = io.Copy(io.Discard, r)
	}
	wg.Add(2)
	go pump(outR, &stdout, logging == "stdout" || logging == "stdoutAndStderr")
	go pump(errR, &stderr, logging == "stderr" || logging == "stdoutAndStderr")

	start := time.Now()
	if err := cmd.Start(); err != nil {
		_ = outW.Close()
		_ = errW.Close()
		wg.Wait()
		return "", "", fmt.Errorf("%s: could not start %q: %w", step, interp[0], err)
	}
	p.mu.Lock()
	p.running[cmd] = struct{}{}
	p.mu.Unlock()
	stop := context.AfterFunc(ctx, func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) })
	err := cmd.Wait()
	stop()
	p.mu.Lock()
	delete(p.running, cmd)
	p.mu.Unlock()
	_ = outW.Close()
	_ = errW.Close()
	wg.Wait()

	so := strings.TrimRight(stdout.String(), "\n")
	se := strings.TrimRight(stderr.String(), "\n")
	if err != nil {
		var ee *exec.ExitError
		code := -1
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		}
		return so, se, fmt.Errorf("%s command failed (exit %d after %s):\n%s", step, code,
			time.Since(start).Round(time.Millisecond), tail(combined.String(), 20))
	}
	return so, se, nil
}
