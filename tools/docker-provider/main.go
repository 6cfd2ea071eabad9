// Command pulumi-resource-docker is a stand-in for the upstream docker
// provider of the @pulumi/docker SDK (pulumi/pulumi-docker, a bridge of
// kreuzwerker/terraform-provider-docker), for the two resources this project
// declares, `docker:index/remoteImage:RemoteImage` and
// `docker:index/container:Container`, and the provider config `host`.
//
// The upstream provider's Go module is not served by the module proxy that
// this project's build machines reach. This implementation follows the
// upstream behaviour as read from its source; each rule is stated, with the
// upstream file it comes from, in test/conformance/docker.test.ts. It talks to
// the engine with the Docker Go client, and to ssh:// hosts through the docker
// CLI's connection helper (`ssh … docker system dial-stdio`), as upstream.
//
// What is not implemented, because nothing here uses it, fails Check with a
// message naming the property: image builds, registry auth, ports, volumes,
// mounts, networks other than networkMode, uploads, devices and capabilities.
package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"

	"github.com/docker/cli/cli/connhelper"
	"github.com/docker/docker/client"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/cmdutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil/rpcerror"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/runtime/protoimpl"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// version is set at build time to the @pulumi/docker SDK version it serves.
var version = "4.11.2"

const (
	imageType     = "docker:index/remoteImage:RemoteImage"
	containerType = "docker:index/container:Container"
)

type dockerProvider struct {
	pulumirpc.UnimplementedResourceProviderServer
	host *provider.HostClient

	mu     sync.Mutex
	daemon string // the configured host ("" until Configure)
	cli    *client.Client
}

func main() {
	err := provider.Main("docker", func(host *provider.HostClient) (pulumirpc.ResourceProviderServer, error) {
		return &dockerProvider{host: host}, nil
	})
	if err != nil {
		cmdutil.ExitError(err.Error())
	}
}

func (p *dockerProvider) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

func (p *dockerProvider) GetSchema(context.Context, *pulumirpc.GetSchemaRequest) (*pulumirpc.GetSchemaResponse, error) {
	return &pulumirpc.GetSchemaResponse{Schema: fmt.Sprintf(`{"name":"docker","version":%q}`, version)}, nil
}

// CheckConfig accepts any host: as upstream, a bad one fails when the client is first used.
func (p *dockerProvider) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

func (p *dockerProvider) DiffConfig(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	olds, news := req.GetOlds().AsMap(), req.GetNews().AsMap()
	if oi := req.GetOldInputs(); oi != nil && len(oi.GetFields()) > 0 {
		olds = oi.AsMap()
	}
	// A changed host is an update of the provider, not a replacement of what it manages.
	if fmt.Sprint(olds["host"]) != fmt.Sprint(news["host"]) {
		return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_SOME, Diffs: []string{"host"}}, nil
	}
	return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
}

func (p *dockerProvider) Configure(_ context.Context, req *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	host := ""
	if args := req.GetArgs(); args != nil {
		host, _ = args.AsMap()["host"].(string)
	}
	if host == "" {
		host = req.GetVariables()["docker:config:host"]
	}
	if host == "" {
		host = os.Getenv("DOCKER_HOST")
	}
	if host == "" {
		host = "unix:///var/run/docker.sock"
	}
	p.mu.Lock()
	p.daemon = host
	p.mu.Unlock()
	return &pulumirpc.ConfigureResponse{AcceptSecrets: false, SupportsPreview: true}, nil
}

// docker returns the client for the configured host, dialled on first use.
func (p *dockerProvider) docker() (*client.Client, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cli != nil {
		return p.cli, nil
	}
	opts := []client.Opt{client.WithAPIVersionNegotiation()}
	if strings.HasPrefix(p.daemon, "ssh://") {
		helper, err := connhelper.GetConnectionHelper(p.daemon)
		if err != nil {
			return nil, fmt.Errorf("error initializing docker client for %s: %w", p.daemon, err)
		}
		opts = append(opts,
			client.WithHTTPClient(&http.Client{Transport: &http.Transport{DialContext: helper.Dialer}}),
			client.WithHost(helper.Host), client.WithDialContext(helper.Dialer))
	} else {
		opts = append(opts, client.WithHost(p.daemon))
	}
	c, err := client.NewClientWithOpts(opts...)
	if err != nil {
		return nil, fmt.Errorf("error initializing docker client for %s: %w", p.daemon, err)
	}
	// The daemon check on first use (config.go MakeClient).
	if _, err := c.Ping(context.Background()); err != nil {
		return nil, fmt.Errorf("Error pinging Docker server, please make sure that %s is reachable and has a  '_ping' endpoint. Error: %w", p.daemon, err)
	}
	p.cli = c
	return c, nil
}

func typeOf(urn string) string { return string(resource.URN(urn).Type()) }

func unsupported(urn string) error {
	return fmt.Errorf("this docker provider implements %s and %s only, not %s", imageType, containerType, typeOf(urn))
}

func (p *dockerProvider) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	news, olds := req.GetNews().AsMap(), req.GetOlds().AsMap()
	var in map[string]any
	var failures []string
	switch typeOf(req.GetUrn()) {
	case imageType:
		in, failures = checkImage(news)
	case containerType:
		in, failures = checkContainer(req.GetUrn(), olds, news, req.GetRandomSeed())
	default:
		return nil, unsupported(req.GetUrn())
	}
	resp := &pulumirpc.CheckResponse{}
	for _, f := range failures {
		prop, reason, _ := strings.Cut(f, "\x00")
		resp.Failures = append(resp.Failures, &pulumirpc.CheckFailure{Property: prop, Reason: reason})
	}
	s, err := structpb.NewStruct(in)
	if err != nil {
		return nil, err
	}
	resp.Inputs = s
	return resp, nil
}

func failure(prop, reason string) string { return prop + "\x00" + reason }

// diffOf compares the inputs, reporting keys in forceNew as replacements.
func diffOf(olds, news map[string]any, keys []string, forceNew, sets map[string]bool, deleteBeforeReplace bool) *pulumirpc.DiffResponse {
	resp := &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE, DetailedDiff: map[string]*pulumirpc.PropertyDiff{}, HasDetailedDiff: true}
	for _, k := range keys {
		o, hadO := olds[k]
		n, hasN := news[k]
		if hadO == hasN && (equal(o, n) || (sets[k] && sameSet(o, n))) {
			continue
		}
		kind := pulumirpc.PropertyDiff_UPDATE
		switch {
		case !hadO:
			kind = pulumirpc.PropertyDiff_ADD
		case !hasN:
			kind = pulumirpc.PropertyDiff_DELETE
		}
		if forceNew[k] {
			kind += pulumirpc.PropertyDiff_ADD_REPLACE - pulumirpc.PropertyDiff_ADD
			resp.Replaces = append(resp.Replaces, k)
		}
		resp.Diffs = append(resp.Diffs, k)
		resp.DetailedDiff[k] = &pulumirpc.PropertyDiff{Kind: kind, InputDiff: true}
	}
	sort.Strings(resp.Diffs)
	if len(resp.Diffs) > 0 {
		resp.Changes = pulumirpc.DiffResponse_DIFF_SOME
	}
	resp.DeleteBeforeReplace = deleteBeforeReplace && len(resp.Replaces) > 0
	return resp
}

func (p *dockerProvider) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	olds := req.GetOlds().AsMap()
	if oi := req.GetOldInputs(); oi != nil && len(oi.GetFields()) > 0 {
		olds = oi.AsMap()
	}
	news := req.GetNews().AsMap()
	switch typeOf(req.GetUrn()) {
	case imageType:
		return diffOf(olds, news, imageInputs, imageForceNew, nil, false), nil
	case containerType:
		return diffOf(olds, news, containerInputs, containerForceNew, containerSets, true), nil
	}
	return nil, unsupported(req.GetUrn())
}

func (p *dockerProvider) Create(ctx context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	in := req.GetProperties().AsMap()
	var id string
	var out map[string]any
	var err error
	switch typeOf(req.GetUrn()) {
	case imageType:
		id, out, err = p.createImage(ctx, in, req.GetPreview())
	case containerType:
		id, out, err = p.createContainer(ctx, in, req.GetPreview())
	default:
		return nil, unsupported(req.GetUrn())
	}
	var pe partialErr
	if errors.As(err, &pe) {
		// The container exists: the engine keeps it in the state as partially created.
		props, _ := structpb.NewStruct(out)
		return nil, rpcerror.WithDetails(rpcerror.New(codes.Unknown, pe.Error()),
			protoimpl.X.ProtoMessageV1Of(&pulumirpc.ErrorResourceInitFailed{Id: id, Properties: props, Reasons: []string{pe.Error()}}))
	}
	if err != nil {
		return nil, err
	}
	props, err := structpb.NewStruct(out)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CreateResponse{Id: id, Properties: props}, nil
}

func (p *dockerProvider) Read(ctx context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	state := req.GetProperties().AsMap()
	var gone bool
	var out map[string]any
	var err error
	switch typeOf(req.GetUrn()) {
	case imageType:
		out, gone, err = p.readImage(ctx, req.GetId(), state)
	case containerType:
		out, gone, err = p.readContainer(ctx, req.GetId(), state)
	default:
		return nil, unsupported(req.GetUrn())
	}
	if err != nil {
		return nil, err
	}
	if gone {
		return &pulumirpc.ReadResponse{}, nil // an empty id: the resource is gone
	}
	props, err := structpb.NewStruct(out)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.ReadResponse{Id: req.GetId(), Properties: props, Inputs: req.GetInputs()}, nil
}

func (p *dockerProvider) Update(ctx context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	olds, news := req.GetOlds().AsMap(), req.GetNews().AsMap()
	var out map[string]any
	var err error
	switch typeOf(req.GetUrn()) {
	case imageType:
		out, err = p.updateImage(ctx, olds, news, req.GetPreview())
	case containerType:
		out, err = p.updateContainer(ctx, req.GetId(), olds, news, req.GetPreview())
	default:
		return nil, unsupported(req.GetUrn())
	}
	if err != nil {
		return nil, err
	}
	props, err := structpb.NewStruct(out)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.UpdateResponse{Properties: props}, nil
}

func (p *dockerProvider) Delete(ctx context.Context, req *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	state := req.GetProperties().AsMap()
	var err error
	switch typeOf(req.GetUrn()) {
	case imageType:
		err = p.deleteImage(ctx, state)
	case containerType:
		err = p.deleteContainer(ctx, req.GetId(), state)
	default:
		return nil, unsupported(req.GetUrn())
	}
	return &emptypb.Empty{}, err
}

func (p *dockerProvider) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

// merge returns the old state's computed outputs overlaid with the new inputs.
func merge(olds, news map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range olds {
		out[k] = v
	}
	for k, v := range news {
		out[k] = v
	}
	return out
}

// sameSet compares two lists as sets (a TypeSet upstream: order never matters).
func sameSet(a, b any) bool {
	la, _ := a.([]any)
	lb, _ := b.([]any)
	key := func(l []any) []string {
		out := make([]string, 0, len(l))
		for _, x := range l {
			out = append(out, fmt.Sprintf("%#v", x))
		}
		sort.Strings(out)
		return out
	}
	return equal(key(la), key(lb))
}

// equal compares two property values as the engine sees them (numbers are float64).
func equal(a, b any) bool { return fmt.Sprintf("%#v", a) == fmt.Sprintf("%#v", b) }

// isUnknown reports a value the engine does not know yet (a preview's unknown output).
func isUnknown(v any) bool { s, ok := v.(string); return ok && s == plugin.UnknownStringValue }
