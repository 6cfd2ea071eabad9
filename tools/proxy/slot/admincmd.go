package slot

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
)

// The `caddy slot-admin` subcommand: one request to this proxy's admin API
// from inside its container (`docker exec PROXY caddy slot-admin ...`), so a
// switch on a remote host needs only the docker CLI, and the admin API stays
// on the host's loopback. The answer's body goes to stdout; a non-2xx answer
// or no answer exits 1 with the reason on stderr.
func init() {
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  "slot-admin",
		Usage: "--address <host:port> GET|PUT <path> [<json body>]",
		Short: "Sends one request to the admin API (upstreams and maintenance)",
		Long: `
Sends one request to the admin API at --address and prints the answer's body.
Only /slot/ paths and /config/ are allowed. Used by the release switch through
docker exec, so the admin API never listens beyond the host's loopback.`,
		Flags: func() *flag.FlagSet {
			fs := flag.NewFlagSet("slot-admin", flag.ExitOnError)
			fs.String("address", "127.0.0.1:2019", "The admin API's address")
			fs.Int("timeout", 10, "Seconds to wait for the answer")
			return fs
		}(),
		Func: adminCommand,
	})
}

func adminCommand(fl caddycmd.Flags) (int, error) {
	args := fl.Args()
	if len(args) < 2 || len(args) > 3 {
		return 2, fmt.Errorf("usage: caddy slot-admin --address HOST:PORT GET|PUT PATH [BODY]")
	}
	method, path := args[0], args[1]
	if method != http.MethodGet && method != http.MethodPut {
		return 2, fmt.Errorf("method %q: must be GET or PUT", method)
	}
	if !strings.HasPrefix(path, "/slot/") && path != "/slot/upstream" && !strings.HasPrefix(path, "/config/") {
		return 2, fmt.Errorf("path %q: must start with /slot/ or /config/", path)
	}
	var body io.Reader
	if len(args) == 3 {
		body = strings.NewReader(args[2])
	}
	req, err := http.NewRequest(method, "http://"+fl.String("address")+path, body)
	if err != nil {
		return 1, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	client := &http.Client{Timeout: time.Duration(fl.Int("timeout")) * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return 1, fmt.Errorf("the admin API at %s does not answer: %w", fl.String("address"), err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return 1, fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, strings.TrimSpace(string(out)))
	}
	_, _ = os.Stdout.Write(out)
	return 0, nil
}
