# Shared by scripts/*: installing what a fresh Debian machine lacks, ports, Redis.

# quell_apt_install [--no-install-recommends] PACKAGE… (apt-get update once per script).
quell_apt_install() {
  local sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  echo "installing: $*"
  if [[ -z "${quell_apt_updated:-}" ]]; then $sudo apt-get update -qq; quell_apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -o DPkg::Lock::Timeout=600 -y -qq "$@" >/dev/null
}

# What building and running Quell needs: redis-server (with redis-cli and
# redis-benchmark from redis-tools) and the hiredis headers.
quell_install_dependencies() {
  local need=()
  command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
  command -v redis-cli >/dev/null 2>&1 || need+=(redis-tools)
  [[ -f /usr/include/hiredis/hiredis.h ]] || need+=(libhiredis-dev)
  if ((${#need[@]})); then quell_apt_install "${need[@]}"; fi
}

# What the tests need on top: tmux for the monitor's end-to-end tests,
# docker-compose (compose 1.29.2), whose `config` checks docker-compose.yml
# offline — without its recommends, which would bring a Docker engine — and
# for the dashboard's browser tests Chromium with its driver (a font for the
# screenshots; no recommends) and Python's venv (Selenium comes from PyPI).
quell_install_test_dependencies() {
  quell_install_dependencies
  local need=() lean=()
  command -v tmux >/dev/null 2>&1 || need+=(tmux)
  command -v docker-compose >/dev/null 2>&1 || lean+=(docker-compose)
  command -v chromium >/dev/null 2>&1 || lean+=(chromium)
  command -v chromedriver >/dev/null 2>&1 || lean+=(chromium-driver)
  [[ -d /usr/share/fonts/truetype/liberation ]] || lean+=(fonts-liberation)
  command -v python3 >/dev/null 2>&1 || need+=(python3)
  python3 -c 'import ensurepip, venv' 2>/dev/null || need+=(python3-venv)
  if ((${#need[@]})); then quell_apt_install "${need[@]}"; fi
  if ((${#lean[@]})); then quell_apt_install --no-install-recommends "${lean[@]}"; fi
}

# A TCP port on 127.0.0.1 that nothing listens on.
quell_free_port() {
  local port
  for _ in $(seq 1 100); do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  echo "no free port found" >&2
  return 1
}

# Waits until the redis-server on $1 answers PING (a loaded machine may take
# seconds to start it); gives up after 60 s, or at once when pid $2 has exited.
quell_wait_for_redis() {
  local port=$1 pid=${2:-} end=$((SECONDS + 60))
  while ((SECONDS < end)); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && return 0
    if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then return 1; fi
    sleep 0.05
  done
  return 1
}

# A private, throwaway redis-server for a benchmark: sets $tmp (its
# directory), $port and $redis_pid, stops it and removes $tmp on exit (an
# EXIT trap: a caller that needs its own trap must include this cleanup).
quell_start_bench_redis() {
  tmp=$(mktemp -d /tmp/quell-bench.XXXXXX)
  port=$(quell_free_port)
  redis-server --port "$port" --bind 127.0.0.1 --dir "$tmp" --save "" --appendonly no --daemonize no \
    --logfile "$tmp/redis.log" &
  redis_pid=$!
  trap 'kill $redis_pid 2>/dev/null; wait $redis_pid 2>/dev/null; rm -rf "$tmp"' EXIT
  quell_wait_for_redis "$port" "$redis_pid"
}

# Release build of one product into .build-release/release/: the Swift runtime
# linked statically (only the code used is mapped: a worker idles at ~12 MiB
# instead of ~15), with lld (which also keeps glibc's link-time notes quiet).
# Fails, printing the compiler's output, on any error or warning.
quell_release_build() {
  local out
  if ! out=$(swift build -c release --static-swift-stdlib -Xswiftc -use-ld=lld \
        --scratch-path .build-release --product "$1" 2>&1) || grep -qE "error|warning:" <<<"$out"; then
    echo "$out"
    return 1
  fi
}
