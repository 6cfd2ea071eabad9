#!/usr/bin/env bash
# The full local demo: deploy v1.0.0, upgrade to v1.1.0 (a migration adds a
# column, rows are written with it), roll back to v1.0.0, deploy v1.4.0 (a
# contract migration v1.0.0 cannot run on), see the app-only rollback refused
# and the rollback with down migrations work, then show the history (with the
# live schema after each update) and the release record, and finally add a
# second Docker host reached over ssh and roll v1.1.0 out to both. The service runs
# behind the reverse proxy on DEMO_PORT: every switch starts the new container
# on the idle slot port, health-checks it, then switches the proxy. Real engine,
# real Docker, registry, Caddy and PostgreSQL, all on loopback. Safe to run
# again: it reuses what is already there.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
STACK="${DEMO_STACK:-demo}"
PORT="${DEMO_PORT:-18080}"        # public port: the proxy
APP_PORT=$((PORT + 10))            # the service's slot ports: APP_PORT and APP_PORT + 1
ADMIN_PORT=$((PORT + 20))          # the proxy's admin API, loopback only
step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

step "Setting up (packages, toolchain, local services, test images)"
scripts/setup.sh
. scripts/env.sh
eval "$(scripts/local-infra.sh env)"
PGPASSWORD="$(cat .local/pg/app-password)"; export PGPASSWORD
# A second Docker host for the last step (kept up, so that the demo can run again).
scripts/test-hosts.sh up 2
read -r _ _ h2_ssh h2_address <<<"$(scripts/test-hosts.sh env 2)"
export PATH="$ROOT/.local/hosts/bin:$PATH" # ssh with the test host's client config; ~/.ssh is not touched
deployctl() { node dist/cli/deployctl.js "$@"; }
release() { node -p "const r=require('./.local/images.json')['$1']; [r.version, r.image, r.digest, r.gitSha, r.schemaVersion, r.schemaMin, r.schemaMax].join(' ')"; }
deploy() {
  read -r v image digest sha schema min max <<<"$(release "$1")"
  deployctl deploy --stack "$STACK" --version "$v" --image "$image" --digest "$digest" --sha "$sha" --schema "$schema" \
    --schema-min "$min" --schema-max "$max" \
    --notes "migrate: schema $schema; env: none; feature flags: none"
}

step "Stack $STACK (state in ${PULUMI_BACKEND_URL})"
pulumi stack select --create "$STACK" >/dev/null
pulumi config set appPort "$APP_PORT"
pulumi config set proxyPort "$PORT"
pulumi config set proxyAdminPort "$ADMIN_PORT"
pulumi config set proxyImage "$(node -p "const p=require('./.local/proxy.json'); p.image + '@' + p.digest")"
pulumi config set appName "api-server-$STACK"
pulumi config set backupDir "$ROOT/.local/backups/$STACK"
pulumi config set --secret dbPassword "$PGPASSWORD"
pulumi config set appDatabaseEnv DATABASE_URL
pulumi config set --path 'criticalEndpoints[0].path' /items
pulumi config set --path 'criticalEndpoints[0].status' 200

step "Deploy v1.0.0"
deploy v1.0.0
curl -fsS "http://127.0.0.1:$PORT/health"; echo

step "Upgrade to v1.1.0 (migration 002 adds items.note)"
deploy v1.1.0
curl -fsS "http://127.0.0.1:$PORT/health"; echo
psql -qAt -c "INSERT INTO items (name, note) VALUES ('written by v1.1.0', 'uses the new column')"
echo "rows in items: $(psql -qAt -c 'SELECT count(*) FROM items')"

step "Roll back to v1.0.0 (app only; the schema stays, as expand/contract allows)"
deployctl rollback v1.0.0 --stack "$STACK"
curl -fsS "http://127.0.0.1:$PORT/health"; echo

step "Deploy v1.4.0 (contract migration 004 renames items; v1.0.0 and v1.1.0 cannot run on it)"
deploy v1.4.0
curl -fsS "http://127.0.0.1:$PORT/items"; echo

step "An app-only rollback to v1.0.0 is refused: v1.0.0 runs on schema 1..3, the database is at 4"
if deployctl rollback v1.0.0 --stack "$STACK"; then echo "demo: the keep rollback should have been refused" >&2; exit 1; fi

step "Roll back to v1.0.0 with down migrations (from v1.4.0's image)"
deployctl rollback v1.0.0 --stack "$STACK" --db down
curl -fsS "http://127.0.0.1:$PORT/items"; echo

step "Maintenance on (runbook 003 §3): every public request but /health gets 503 with the message"
deployctl maintenance on --stack "$STACK" --message "Demo maintenance; back in a minute"
curl -sS -i "http://127.0.0.1:$PORT/items" | sed -n '1p;/^Retry-After/p;$p'
curl -fsS "http://127.0.0.1:$PORT/health"; echo
deployctl maintenance off --stack "$STACK"
curl -fsS "http://127.0.0.1:$PORT/items"; echo

step "Release history (stack history is the release record)"
deployctl history --stack "$STACK"
step "Release record"
deployctl record v1.0.0 --stack "$STACK"

step "A second host over ssh (the test host h2: its own dockerd in a network namespace, an sshd on 127.0.0.1)"
# The local engine stays the first host (its containers and proxy are kept); the app listens on every address.
pulumi config set --path 'hosts[0].name' a
pulumi config set --path 'hosts[0].endpoint' "${DOCKER_HOST:-unix:///var/run/docker.sock}"
pulumi config set --path 'hosts[0].address' 127.0.0.1
pulumi config set --path 'hosts[1].name' b
pulumi config set --path 'hosts[1].endpoint' "$h2_ssh"
pulumi config set --path 'hosts[1].address' "$h2_address"
pulumi config set --path 'appEnv.HOST' 0.0.0.0
deploy v1.1.0
echo "host a  http://127.0.0.1:$PORT/health -> $(curl -fsS "http://127.0.0.1:$PORT/health")"
echo "host b  http://$h2_address:$PORT/health -> $(curl -fsS "http://$h2_address:$PORT/health")"
deployctl status --stack "$STACK"

step "What runs where"
docker ps --filter "name=api-server-$STACK" --format 'container {{.Names}}  image {{.Image}}  {{.Status}}'
echo "app        http://127.0.0.1:$PORT/health -> $(curl -fsS "http://127.0.0.1:$PORT/health")"
echo "proxy      :$PORT -> $(curl -fsS "http://127.0.0.1:$ADMIN_PORT/slot/upstream/api-server-$STACK") (maintenance: $(curl -fsS "http://127.0.0.1:$ADMIN_PORT/slot/maintenance"))"
echo "host b     $(DOCKER_HOST="$h2_ssh" docker ps --filter "name=api-server-$STACK" --format '{{.Names}} {{.Image}}' | tr '\n' ' ')"
echo "schema     version $(psql -qAt -c 'SELECT version FROM schema_migrations'), $(psql -qAt -c 'SELECT count(*) FROM items') rows in items"
echo "backups    $(ls "$ROOT/.local/backups/$STACK"/*.dump | wc -l) verified dumps in .local/backups/$STACK"
scripts/local-infra.sh status
echo
echo "Stop the local services with: scripts/test-hosts.sh down; scripts/local-infra.sh down"
