// Command pulumi-resource-command is a stand-in for the upstream command
// provider (pulumi/pulumi-command v1.2.1, on pulumi-go-provider v1.3.0), for
// the `command:local:Command` resource of the @pulumi/command 1.2.1 SDK.
//
// The upstream provider's Go module is not served by the module proxy that
// this project's build machines reach. This implementation follows the
// upstream behaviour as read from its source (the rules, with the upstream
// file each comes from, are stated one by one in test/conformance):
//
//   - Diff: only `triggers` is replace-on-change. Like the upstream
//     go-provider, a changed element is reported as an update of
//     `triggers[i]` and only a triggers list that appears or disappears is a
//     replace; the SDK's replaceOnChanges ["triggers[*]"] makes the engine
//     replace on any element change. Every other input changes in place.
//     Replacement is create-before-delete (no deleteBeforeReplace).
//   - Update runs `update`, or `create` when `update` is unset, on any
//     change; nothing runs in a preview.
//   - Delete runs `delete` with the old state's inputs.
//   - PULUMI_COMMAND_STDOUT / _STDERR hold the previous outputs on update and
//     delete, set only when non-empty and addPreviousOutputInEnv is not false.
//   - The environment is the provider's, plus `environment`.
//   - stdout/stderr lose exactly one trailing newline; every line is logged
//     as an ephemeral status message; a failure reads
//     "<exit status>: running <quoted command>:\n<output>".
//   - Cancel kills the interpreter only (SIGKILL), and every later operation
//     fails with "context canceled"; commands stay in the provider's process
//     group, so the engine's SIGINT/SIGKILL of that group reaches them.
//
// Secrets: Configure declares AcceptSecrets=false, so the engine re-applies
// secret markers by property name; as upstream, a secret input keeps its own
// secretness in state and does not make stdout or stderr secret.
// Copying assets and remote (SSH) commands are not implemented.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"reflect"
	"sort"
	"strings"
	"sync"

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

// inputKeys are the inputs of command:local:Command; every one but triggers changes in place.
var inputKeys = []string{"create", "update", "delete", "environment", "dir", "interpreter", "stdin", "logging",
	"addPreviousOutputInEnv", "assetPaths", "archivePaths"}

type commandProvider struct {
	pulumirpc.UnimplementedResourceProviderServer
	host *provider.HostClient

	mu        sync.Mutex
	running   map[*exec.Cmd]struct{}
	cancelled bool
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

	var diffs, replaces []string
	detailed := map[string]*pulumirpc.PropertyDiff{}
	add := func(key string, kind pulumirpc.PropertyDiff_Kind) {
		detailed[key] = &pulumirpc.PropertyDiff{Kind: kind, InputDiff: true}
	}
	// triggers: element paths are updates; the whole list appearing or disappearing replaces.
	oldT, hadT := olds["triggers"]
	newT, hasT := news["triggers"]
	switch {
	case hadT && !hasT:
		diffs, replaces = append(diffs, "triggers"), append(replaces, "triggers")
		add("triggers", pulumirpc.PropertyDiff_DELETE_REPLACE)
	case !hadT && hasT:
		diffs, replaces = append(diffs, "triggers"), append(replaces, "triggers")
		add("triggers", pulumirpc.PropertyDiff_ADD_REPLACE)
	case hadT && hasT && !reflect.DeepEqual(oldT, newT):
		diffs = append(diffs, "triggers")
		o, _ := oldT.([]any)
		n, _ := newT.([]any)
		for i := 0; i < len(o) || i < len(n); i++ {
			key := fmt.Sprintf("triggers[%d]", i)
			switch {
			case i >= len(n):
				add(key, pulumirpc.PropertyDiff_DELETE)
			case i >= len(o):
				add(key, pulumirpc.PropertyDiff_ADD)
			case !reflect.DeepEqual(o[i], n[i]):
				add(key, pulumirpc.PropertyDiff_UPDATE)
			}
		}
	}
	for _, k := range inputKeys {
		if changed(olds, news, k) {
			diffs = append(diffs, k)
			add(k, pulumirpc.PropertyDiff_UPDATE)
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

// newID is the resource name followed by 8 random hex characters, as upstream.
func newID(urn string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return resource.URN(urn).Name() + hex.EncodeToString(b)
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
		stdout, stderr, err = p.run(ctx, req.GetUrn(), c, in, nil)
		if err != nil {
			return nil, err
		}
	}
	return &pulumirpc.CreateResponse{Id: newID(req.GetUrn()), Properties: withOutputs(req.GetProperties(), stdout, stderr, false)}, nil
}

func (p *commandProvider) Read(_ context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	return &pulumirpc.ReadResponse{Id: req.GetId(), Properties: req.GetProperties(), Inputs: req.GetInputs()}, nil
}

// previousOutputs is PULUMI_COMMAND_STDOUT/STDERR for an update or delete: set
// only when non-empty, and not at all when addPreviousOutputInEnv is false.
func previousOutputs(inputs, outputs map[string]any) map[string]string {
	env := map[string]string{}
	if b, ok := inputs["addPreviousOutputInEnv"].(bool); ok && !b {
		return env
	}
	if s, _ := outputs["stdout"].(string); s != "" {
		env["PULUMI_COMMAND_STDOUT"] = s
	}
	if s, _ := outputs["stderr"].(string); s != "" {
		env["PULUMI_COMMAND_STDERR"] = s
	}
	return env
}

func (p *commandProvider) Update(ctx context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	olds := req.GetOlds().AsMap()
	news := req.GetNews().AsMap()
	prevOut, _ := olds["stdout"].(string)
	prevErr, _ := olds["stderr"].(string)
	if req.GetPreview() {
		return &pulumirpc.UpdateResponse{Properties: withOutputs(req.GetNews(), "", "", true)}, nil
	}
	c, _ := news["update"].(string)
	if c == "" {
		c, _ = news["create"].(string)
	}
	if c == "" {
		return &pulumirpc.UpdateResponse{Properties: withOutputs(req.GetNews(), prevOut, prevErr, false)}, nil
	}
	stdout, stderr, err := p.run(ctx, req.GetUrn(), c, news, previousOutputs(news, olds))
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
	if _, _, err := p.run(ctx, req.GetUrn(), d, props, previousOutputs(props, props)); err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}

func (p *commandProvider) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cancelled = true
	for c := range p.running {
		if c.Process != nil {
			_ = c.Process.Kill() // the interpreter only, as exec.CommandContext does upstream
		}
	}
	return &emptypb.Empty{}, nil
}

// run executes one command through its interpreter and streams each output
// line to the engine as an info message for the resource.
func (p *commandProvider) run(ctx context.Context, urn, script string, in map[string]any,
	extraEnv map[string]string,
) (string, string, error) {
	p.mu.Lock()
	cancelled := p.cancelled
	p.mu.Unlock()
	if cancelled {
		return "", "", fmt.Errorf("context canceled: running %q:\n", script)
	}
	interp := []string{"/bin/sh", "-c"}
	if list, ok := in["interpreter"].([]any); ok && len(list) > 0 {
		interp = interp[:0]
		for _, v := range list {
			s, _ := v.(string)
			interp = append(interp, s)
		}
	}
	cmd := exec.Command(interp[0], append(interp[1:], script)...)
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
	for _, k := range []string{"PULUMI_COMMAND_STDOUT", "PULUMI_COMMAND_STDERR"} {
		if v, ok := extraEnv[k]; ok {
			env = append(env, k+"="+v)
		}
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
				_ = p.host.LogStatus(context.Background(), diag.Info, resource.URN(urn), line)
			}
		}
		_, _ = io.Copy(io.Discard, r)
	}
	wg.Add(2)
	go pump(outR, &stdout, logging == "stdout" || logging == "stdoutAndStderr")
	go pump(errR, &stderr, logging == "stderr" || logging == "stdoutAndStderr")

	if err := cmd.Start(); err != nil {
		_ = outW.Close()
		_ = errW.Close()
		wg.Wait()
		return "", "", fmt.Errorf("%w: running %q:\n", err, script)
	}
	p.mu.Lock()
	p.running[cmd] = struct{}{}
	p.mu.Unlock()
	stop := context.AfterFunc(ctx, func() { _ = cmd.Process.Kill() })
	err := cmd.Wait()
	stop()
	p.mu.Lock()
	delete(p.running, cmd)
	p.mu.Unlock()
	_ = outW.Close()
	_ = errW.Close()
	wg.Wait()

	if err != nil {
		return "", "", fmt.Errorf("%w: running %q:\n%s", err, script, combined.String())
	}
	so := strings.TrimSuffix(stdout.String(), "\n")
	se := strings.TrimSuffix(stderr.String(), "\n")
	return so, se, nil
}
