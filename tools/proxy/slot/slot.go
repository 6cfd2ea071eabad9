// Package slot holds the upstream of each service's blue/green switch, and
// the maintenance switch, in memory, so that switching either is not a
// config change. Caddy reloads its whole config on any change and closes
// idle client keep-alive connections when it does, which a client that
// reuses such a connection sees as a reset.
//
//   - http.reverse_proxy.upstreams.slot: a dynamic upstream source that
//     answers with the current upstream of the service named by `name`
//     (none before its first switch).
//   - http.handlers.slot_maintenance: while maintenance is on, answers every
//     request whose path is not in `allow` with 503, the maintenance message
//     and Retry-After; otherwise passes the request on.
//   - admin.api.slot:
//     GET /slot/upstream/NAME answers {"dial": "host:port"}; PUT with the
//     same body switches it. Requests already proxied finish on the old
//     upstream; new ones go to the new one. /slot/upstream is NAME "".
//     GET /slot/maintenance answers {"on": bool, "message": "..."}; PUT with
//     the same body switches maintenance on or off.
//
// Both are also written to $XDG_DATA_HOME/caddy/ (slot-upstreams.json,
// slot-maintenance.json), so a restarted proxy resumes them.
package slot

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"
)

func init() {
	caddy.RegisterModule(Upstreams{})
	caddy.RegisterModule(Maintenance{})
	caddy.RegisterModule(Admin{})
}

type upstream struct {
	Dial string `json:"dial"`
}

type maintenance struct {
	On      bool   `json:"on"`
	Message string `json:"message"`
}

var (
	mu        sync.RWMutex
	loaded    bool
	upstreams = map[string]string{}
	maint     maintenance
)

var nameRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$`)

func dataFile(name string) string {
	return filepath.Join(caddy.AppDataDir(), name)
}

// load reads the persisted state once per process.
func load() {
	mu.Lock()
	defer mu.Unlock()
	if loaded {
		return
	}
	loaded = true
	if b, err := os.ReadFile(dataFile("slot-upstreams.json")); err == nil {
		var m map[string]string
		if json.Unmarshal(b, &m) == nil {
			upstreams = m
		}
	}
	if b, err := os.ReadFile(dataFile("slot-maintenance.json")); err == nil {
		var m maintenance
		if json.Unmarshal(b, &m) == nil {
			maint = m
		}
	}
}

// save writes v to the data file atomically; the caller holds mu.
func save(name string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(caddy.AppDataDir(), 0o700); err != nil {
		return err
	}
	tmp := dataFile(name) + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, dataFile(name))
}

// Upstreams is the dynamic upstream source of one service.
type Upstreams struct {
	Name string `json:"name,omitempty"`
}

func (Upstreams) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "http.reverse_proxy.upstreams.slot", New: func() caddy.Module { return new(Upstreams) }}
}

func (*Upstreams) Provision(caddy.Context) error {
	load()
	return nil
}

func (u *Upstreams) GetUpstreams(*http.Request) ([]*reverseproxy.Upstream, error) {
	mu.RLock()
	dial := upstreams[u.Name]
	mu.RUnlock()
	if dial == "" {
		return nil, nil
	}
	return []*reverseproxy.Upstream{{Dial: dial}}, nil
}

// Maintenance is the HTTP handler that answers 503 while maintenance is on.
type Maintenance struct {
	// Paths that pass through while maintenance is on (the health path).
	Allow []string `json:"allow,omitempty"`
	// Seconds for Retry-After; 30 when unset.
	RetryAfter int `json:"retry_after,omitempty"`
}

func (Maintenance) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "http.handlers.slot_maintenance", New: func() caddy.Module { return new(Maintenance) }}
}

func (m *Maintenance) Provision(caddy.Context) error {
	load()
	if m.RetryAfter <= 0 {
		m.RetryAfter = 30
	}
	return nil
}

func (m *Maintenance) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	mu.RLock()
	on, message := maint.On, maint.Message
	mu.RUnlock()
	if !on {
		return next.ServeHTTP(w, r)
	}
	for _, p := range m.Allow {
		if r.URL.Path == p {
			return next.ServeHTTP(w, r)
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Retry-After", fmt.Sprint(m.RetryAfter))
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusServiceUnavailable)
	_, err := fmt.Fprintln(w, message)
	return err
}

// Admin is the admin API endpoint that reads and switches upstreams and maintenance.
type Admin struct{}

func (Admin) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "admin.api.slot", New: func() caddy.Module { return new(Admin) }}
}

func (Admin) Routes() []caddy.AdminRoute {
	return []caddy.AdminRoute{
		{Pattern: "/slot/upstream", Handler: caddy.AdminHandlerFunc(handleUpstream)},
		{Pattern: "/slot/upstream/", Handler: caddy.AdminHandlerFunc(handleUpstream)},
		{Pattern: "/slot/maintenance", Handler: caddy.AdminHandlerFunc(handleMaintenance)},
	}
}

func badRequest(format string, a ...any) error {
	return caddy.APIError{HTTPStatus: http.StatusBadRequest, Err: fmt.Errorf(format, a...)}
}

func reply(w http.ResponseWriter, v any) error {
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(v)
}

func handleUpstream(w http.ResponseWriter, r *http.Request) error {
	load()
	name := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, "/slot/upstream"), "/")
	if name != "" && !nameRE.MatchString(name) {
		return badRequest("service name %q is not a container name", name)
	}
	switch r.Method {
	case http.MethodGet:
		mu.RLock()
		defer mu.RUnlock()
		return reply(w, upstream{Dial: upstreams[name]})
	case http.MethodPut:
		var u upstream
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&u); err != nil {
			return badRequest("body must be {\"dial\": \"host:port\"}: %w", err)
		}
		if _, _, err := net.SplitHostPort(u.Dial); err != nil {
			return badRequest("dial %q is not host:port: %w", u.Dial, err)
		}
		mu.Lock()
		defer mu.Unlock()
		next := make(map[string]string, len(upstreams)+1)
		for k, v := range upstreams {
			next[k] = v
		}
		next[name] = u.Dial
		if err := save("slot-upstreams.json", next); err != nil {
			return caddy.APIError{HTTPStatus: http.StatusInternalServerError, Err: err}
		}
		upstreams = next
		return reply(w, u)
	default:
		return caddy.APIError{HTTPStatus: http.StatusMethodNotAllowed, Err: fmt.Errorf("method %s not allowed", r.Method)}
	}
}

func handleMaintenance(w http.ResponseWriter, r *http.Request) error {
	load()
	switch r.Method {
	case http.MethodGet:
		mu.RLock()
		defer mu.RUnlock()
		return reply(w, maint)
	case http.MethodPut:
		var m maintenance
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 8192)).Decode(&m); err != nil {
			return badRequest("body must be {\"on\": true|false, \"message\": \"...\"}: %w", err)
		}
		mu.Lock()
		defer mu.Unlock()
		if err := save("slot-maintenance.json", m); err != nil {
			return caddy.APIError{HTTPStatus: http.StatusInternalServerError, Err: err}
		}
		maint = m
		return reply(w, m)
	default:
		return caddy.APIError{HTTPStatus: http.StatusMethodNotAllowed, Err: fmt.Errorf("method %s not allowed", r.Method)}
	}
}

var (
	_ caddy.Provisioner           = (*Upstreams)(nil)
	_ reverseproxy.UpstreamSource = (*Upstreams)(nil)
	_ caddy.Provisioner           = (*Maintenance)(nil)
	_ caddyhttp.MiddlewareHandler = (*Maintenance)(nil)
	_ caddy.AdminRouter           = (*Admin)(nil)
)
