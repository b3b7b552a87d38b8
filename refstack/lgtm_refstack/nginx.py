"""Real nginx as the ALB stand-in, its config rendered from the effective listener rules.

An ALB evaluates its rules by priority, each a path-pattern condition and optionally an
http-header condition (the edge secret), first match wins, else the default action. nginx
does the same with one `map` over "<edge header accepted><path>" whose regexes are tried in
the order written (priority order): the matching rule's name picks an internal location that
applies the rule's url-rewrite (the same regex and replacement the Terraform ALB transform
uses) and forwards, or answers the fixed response. The HTTPS listener serves the rules; the
HTTP listener redirects to it (301), as the ALB's does.
"""
from __future__ import annotations

import http.client
import os
import shutil
import signal
import ssl
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from lgtm_smoke.data.routes import AlbRule, alb_pattern_regex

from . import processes
from .processes import ServiceStartError

# ELBSecurityPolicy-TLS13-1-2-2021-06: TLS 1.2 and 1.3; for 1.2 only ECDHE with AES-GCM.
TLS_PROTOCOLS = "TLSv1.2 TLSv1.3"
TLS12_CIPHERS = ("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                 "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384")


# Only for asking nginx which config it serves; no CA store loaded (that alone costs ~40 ms).
_UNVERIFIED = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
_UNVERIFIED.check_hostname, _UNVERIFIED.verify_mode = False, ssl.CERT_NONE


@dataclass
class Listeners:
    """What the ALB's listeners do: the rules (by priority), the default action, where each
    target group's traffic goes, the certificate (None: plain HTTP serves the rules), whether
    the HTTP listener redirects to HTTPS or serves the rules itself, and the edge secrets a
    rule's header condition accepts."""

    rules: list[AlbRule]
    default: AlbRule
    upstreams: dict[str, str]  # target group -> "host:port"
    cert: tuple[Path, Path] | None = None  # (certificate chain, key)
    http_redirects: bool = True
    edge_secrets: tuple[str, ...] = ()


def _q(text: str) -> str:
    """An nginx double-quoted string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("$", "${dollar}") + '"'


def _tg(name: str) -> str:
    return "tg_" + name.replace("-", "_")


def _action(rule: AlbRule, key: str) -> str:
    """The internal location that carries out `rule`'s action on the original URI."""
    head = f'  location ^~ /__rule/{key}/ {{ internal; '
    if rule.fixed is not None:
        f = rule.fixed
        return head + f"default_type {_q(f.content_type)}; return {f.status} {_q(f.body)}; }}"
    parts = [f'rewrite "^/__rule/{key}(/.*)$" $1{"" if rule.rewrite else " break"};']
    if rule.rewrite:
        regex, replace = rule.rewrite
        parts.append(f'rewrite "{regex}" "{replace}" break;')
    parts.append(f"proxy_pass http://{_tg(rule.target_group)};")
    return head + " ".join(parts) + " }"


def _rules_server(listen: str, alb: Listeners, generation: int) -> str:
    return f"""  server {{
    listen {listen};
    location = /__refstack/generation {{ default_type text/plain; return 200 "{generation}"; }}
    location / {{ rewrite ^ /__rule/$alb_rule$uri last; }}
{chr(10).join(_action(r, f"p{r.priority}") for r in alb.rules)}
{_action(alb.default, "default")}
  }}"""


ACCESS_LOG_FORMAT = "$request_method $request_uri $status $request_length $bytes_sent"  # bench/canary_volume.py reads it


def render(alb: Listeners, https_port: int, http_port: int, workdir: Path, generation: int,
           access_log: Path | None = None) -> str:
    user = "user root;" if os.geteuid() == 0 else ""  # workers must read our temp dirs
    blocks = [f"  upstream {_tg(tg)} {{ server {addr} max_fails=0; keepalive 16; }}"
              for tg, addr in sorted(alb.upstreams.items())]
    header = next((r.header for r in alb.rules if r.header), None)
    secrets = sorted(set(alb.edge_secrets)) if header else []  # no rule asks: the map accepts nothing
    header_var = "$http_" + (header or "X-LGTM-Edge-Secret").lower().replace("-", "_")
    edge_map = [f"  map {header_var} $edge_ok {{ default 0;"] + [f"    {_q(v)} 1;" for v in secrets] + ["  }"]
    rule_map = ['  map "$edge_ok$uri" $alb_rule { default default;']
    for r in alb.rules:
        paths = "|".join(alb_pattern_regex(p).pattern for p in r.paths)
        rule_map.append(f'    "~^{"1" if r.header else "."}(?:{paths})$" p{r.priority};')
    rule_map.append("  }")
    servers = []
    if alb.cert is None:
        servers.append(_rules_server(f"127.0.0.1:{https_port}", alb, generation))
    else:
        chain, key = alb.cert
        servers.append(_rules_server(f"127.0.0.1:{https_port} ssl", alb, generation).replace(
            "    listen", f"    ssl_certificate {chain};\n    ssl_certificate_key {key};\n    listen", 1))
        if alb.http_redirects:
            servers.append(f"""  server {{
    listen 127.0.0.1:{http_port};
    location = /__refstack/generation {{ default_type text/plain; return 200 "{generation}"; }}
    location / {{ return 301 https://$host:{https_port}$request_uri; }}
  }}""")
        else:  # the HTTP listener carries the rules itself: plain text on the internet
            servers.append(_rules_server(f"127.0.0.1:{http_port}", alb, generation))
    return f"""# generated by lgtm_refstack.nginx -- do not edit
{user}
worker_processes 1;
daemon off;
pid {workdir}/nginx.pid;
error_log {workdir}/error.log warn;
events {{ worker_connections 512; }}
http {{
  {f"log_format volume '{ACCESS_LOG_FORMAT}';" if access_log else ""}
  access_log {f"{access_log} volume" if access_log else "off"};
  client_body_temp_path {workdir}/client_body;
  proxy_temp_path {workdir}/proxy;
  fastcgi_temp_path {workdir}/fastcgi;
  uwsgi_temp_path {workdir}/uwsgi;
  scgi_temp_path {workdir}/scgi;
  client_max_body_size 16m;
  merge_slashes off;
  proxy_http_version 1.1;
  proxy_set_header Connection "";
  proxy_set_header Host $http_host;
  proxy_next_upstream off;
  proxy_connect_timeout 2s;
  proxy_read_timeout 60s;
  proxy_buffering off;
  ssl_protocols {TLS_PROTOCOLS};
  ssl_ciphers {TLS12_CIPHERS};
  ssl_prefer_server_ciphers on;
  ssl_session_cache shared:alb:1m;
  geo $dollar {{ default "$"; }}
  add_header X-Refstack-Generation {generation} always;
{chr(10).join(blocks)}
{chr(10).join(edge_map)}
{chr(10).join(rule_map)}
{chr(10).join(servers)}
}}
"""


class Nginx:
    """nginx on 127.0.0.1: `port` is the rules listener (HTTPS when a certificate is given),
    `http_port` the plain-HTTP listener (redirects, or serves the rules under a fault)."""

    def __init__(self, workdir: Path, port: int, http_port: int | None = None, access_log: Path | None = None):
        self.binary = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
        if not self.binary:
            raise ServiceStartError("nginx not found: install Debian's nginx-light (apt-get install -y nginx-light)")
        self.workdir = workdir
        self.port = port
        self.http_port = http_port if http_port is not None else port
        self.conf = workdir / "nginx.conf"
        self.proc: subprocess.Popen | None = None
        self.generation = 0
        self.tls = False
        self.access_log = access_log  # None: off (a request volume measurement turns it on)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}" if self.tls else f"http://127.0.0.1:{self.port}"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def _write(self, alb: Listeners) -> None:
        self.generation += 1
        self.tls = alb.cert is not None
        self.conf.write_text(render(alb, self.port, self.http_port, self.workdir, self.generation,
                                      self.access_log))
        check = subprocess.run([self.binary, "-t", "-q", "-p", str(self.workdir), "-c", str(self.conf)],
                               capture_output=True, text=True, check=False)
        if check.returncode != 0:
            raise ServiceStartError(f"nginx rejected the generated config: {check.stderr.strip()}")

    def start(self, alb: Listeners) -> None:
        for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (self.workdir / sub).mkdir(parents=True, exist_ok=True)
        self._write(alb)
        self.proc = subprocess.Popen([self.binary, "-p", str(self.workdir), "-c", str(self.conf)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        self._wait_generation(self.generation)

    def reload(self, alb: Listeners) -> None:
        """Swap the config and wait until every answer comes from the new one."""
        self._write(alb)
        old_workers = self._workers()
        self.proc.send_signal(signal.SIGHUP)
        self._wait_generation(self.generation)
        # Old workers may still accept a connection or two until they have shut down.
        deadline = time.monotonic() + 5
        while self._workers() & old_workers and time.monotonic() < deadline:
            time.sleep(0.005)

    def _workers(self) -> set[int]:
        """PIDs of the master's worker processes (from /proc)."""
        pids = set()
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.proc.pid:
                pids.add(int(stat.parent.name))
        return pids

    def _wait_generation(self, generation: int, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode(errors="replace").strip()
                log = (self.workdir / "error.log")
                err = err or (log.read_text().strip() if log.exists() else "")
                raise ServiceStartError(f"nginx exited on 127.0.0.1:{self.port}: {err.splitlines()[-1] if err else 'no output'}")
            if self._generation() == str(generation):
                return  # old workers may still hold keep-alive connections; new ones use the new config
            time.sleep(0.01)
        raise ServiceStartError(f"nginx did not serve config generation {generation} within {timeout}s")

    def _generation(self) -> str | None:
        """The config generation nginx serves. Not verified: under `tls-untrusted` it serves a
        certificate nobody trusts, and this only asks which config is live."""
        if self.tls:
            conn: http.client.HTTPConnection = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=0.5,
                                                                           context=_UNVERIFIED)
        else:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=0.5)
        try:
            conn.request("GET", "/__refstack/generation")
            return conn.getresponse().read().decode()
        except (OSError, http.client.HTTPException):
            return None
        finally:
            conn.close()

    def stop(self) -> None:
        processes.stop(self.proc, group=True)
