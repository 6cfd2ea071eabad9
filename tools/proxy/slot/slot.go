// Package slot holds the upstream of a blue/green switch in memory, so that
// switching it is not a config change. Caddy reloads its whole config on any
// change and closes idle client keep-alive connections when it does, which
// a client that reuses such a connection sees as a reset.
//
//   - http.reverse_proxy.upstreams.slot: a dynamic upstream source that
//     answers with the current upstream (none before the first switch).
//   - admin.api.slot: GET /slot/upstream answers {"dial": "host:port"};
//     PUT /slot/upstream with the same body switches it. Requests already
//     proxied finish on the old upstream; new ones go to the new one.
//
// The upstream is also written to $XDG_DATA_HOME/caddy/slot-upstream.json
// (or the file named by `file`), so a restarted proxy resumes it.
package slot

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"
)

func init() {
	caddy.RegisterModule(Upstreams{})
	caddy.RegisterModule(Admin{})
}

type state struct {
	Dial string `json:"dial"`
}

var current atomic.Pointer[state]

func stateFile() string {
	return filepath.Join(caddy.AppDataDir(), "slot-upstream.json")
}

func load() {
	if current.Load() != nil {
		return
	}
	b, err := os.ReadFile(stateFile())
	if err != nil {
		return
	}
	var s state
	if json.Unmarshal(b, &s) == nil && s.Dial != "" {
		current.Store(&s)
	}
}

// Upstreams is the dynamic upstream source.
type Upstreams struct{}

func (Upstreams) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "http.reverse_proxy.upstreams.slot", New: func() caddy.Module { return new(Upstreams) }}
}

func (*Upstreams) Provision(caddy.Context) error {
	load()
	return nil
}

func (*Upstreams) GetUpstreams(*http.Request) ([]*reverseproxy.Upstream, error) {
	s := current.Load()
	if s == nil {
		return nil, nil
	}
	return []*reverseproxy.Upstream{{Dial: s.Dial}}, nil
}

// Admin is the admin API endpoint that reads and switches the upstream.
type Admin struct{}

func (Admin) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "admin.api.slot", New: func() caddy.Module { return new(Admin) }}
}

func (Admin) Routes() []caddy.AdminRoute {
	return []caddy.AdminRoute{{Pattern: "/slot/upstream", Handler: caddy.AdminHandlerFunc(handle)}}
}

func handle(w http.ResponseWriter, r *http.Request) error {
	load()
	switch r.Method {
	case http.MethodGet:
		s := current.Load()
		if s == nil {
			s = &state{}
		}
		w.Header().Set("Content-Type", "application/json")
		return json.NewEncoder(w).Encode(s)
	case http.MethodPut:
		var s state
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&s); err != nil {
			return caddy.APIError{HTTPStatus: http.StatusBadRequest, Err: fmt.Errorf("body must be {\"dial\": \"host:port\"}: %w", err)}
		}
		if _, _, err := net.SplitHostPort(s.Dial); err != nil {
			return caddy.APIError{HTTPStatus: http.StatusBadRequest, Err: fmt.Errorf("dial %q is not host:port: %w", s.Dial, err)}
		}
		b, _ := json.Marshal(s)
		if err := os.MkdirAll(filepath.Dir(stateFile()), 0o700); err != nil {
			return caddy.APIError{HTTPStatus: http.StatusInternalServerError, Err: err}
		}
		tmp := stateFile() + ".tmp"
		if err := os.WriteFile(tmp, b, 0o600); err != nil {
			return caddy.APIError{HTTPStatus: http.StatusInternalServerError, Err: err}
		}
		if err := os.Rename(tmp, stateFile()); err != nil {
			return caddy.APIError{HTTPStatus: http.StatusInternalServerError, Err: err}
		}
		current.Store(&s)
		w.Header().Set("Content-Type", "application/json")
		return json.NewEncoder(w).Encode(s)
	default:
		return caddy.APIError{HTTPStatus: http.StatusMethodNotAllowed, Err: fmt.Errorf("method %s not allowed", r.Method)}
	}
}

var (
	_ caddy.Provisioner           = (*Upstreams)(nil)
	_ reverseproxy.UpstreamSource = (*Upstreams)(nil)
	_ caddy.AdminRouter           = (*Admin)(nil)
)
