"""The real Viam peers built from rdk's Go module (``tools/build_peers.py``): finding the
binaries, and running viam-server in a network namespace of its own.

Why a namespace: viam-server starts network checks of its own on every start (DNS queries to
public resolvers, STUN and TURN servers on the internet), whatever its config says. Tests and
benchmarks send traffic only to this machine, so viam-server runs in a network namespace that
has its loopback and one veth link to this host, and no route anywhere else: those checks fail
at once with "network is unreachable" and nothing leaves the machine. This host reaches
viam-server at ``PeerNetwork.peer_ip``, and viam-server reaches this host's processes at
``PeerNetwork.host_ip`` (bind them there). A guard route makes the whole block unreachable from
this host once a namespace is gone, so a late dial cannot follow the default route.

Making namespaces needs root (CI runs as root). Without the binaries or without root, the tests
skip with the reason; with ``VIAMLITE_REQUIRE_TOOLCHAIN=1`` (CI) they fail instead.
"""
from __future__ import annotations

import importlib.util
import ipaddress
import json
import os
import random
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REQUIRED = os.environ.get("VIAMLITE_REQUIRE_TOOLCHAIN") == "1"
#: The block the namespaces take their /30 links from; unreachable from this host as a whole.
BLOCK = ipaddress.ip_network("10.213.0.0/16")
NETNS_PREFIX = "vl-peers-"


def _build_tool() -> Any:
    spec = importlib.util.spec_from_file_location("viamlite_build_peers", ROOT / "tools" / "build_peers.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build_tool = _build_tool()


def binary(name: str) -> Path:
    """The built peer ``name`` (``viam-server`` or ``viam``), whether or not it exists."""
    return build_tool.peer_dir() / name


def missing(name: str = "viam-server") -> str | None:
    """Why ``name`` cannot run here, or None."""
    path = binary(name)
    if not path.is_file():
        return (f"{path} is not built (run `python3 tools/build_peers.py`; it needs Go and the Go module proxy, "
                f"see README 'Real Viam peers')")
    if name == "viam-server":
        if os.geteuid() != 0:
            return "viam-server runs in a network namespace of its own, which needs root"
        if shutil.which("ip") is None:
            return "the `ip` command (iproute2) is missing: it makes viam-server's network namespace"
    return None


def require(name: str = "viam-server") -> None:
    """Skip (or, in CI, fail) the calling test when the peer cannot run."""
    import pytest

    reason = missing(name)
    if reason:
        if REQUIRED:
            pytest.fail(f"VIAMLITE_REQUIRE_TOOLCHAIN=1 but {reason}")
        pytest.skip(reason)


def _ip(*args: str, netns: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    cmd = ["ip", *(("-n", netns) if netns else ()), *args]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if check and result.returncode:
        raise RuntimeError(f"`{' '.join(cmd)}` failed: {result.stderr.strip()}")
    return result


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class PeerNetwork:
    """A network namespace with loopback and a veth link to this host, and no other route."""

    _count = 0

    def __init__(self) -> None:
        self._remove_stale()
        PeerNetwork._count += 1
        tag = f"{os.getpid()}-{PeerNetwork._count}"
        self.name = f"{NETNS_PREFIX}{tag}"
        self.host_if, peer_if = f"vlh{tag}", f"vlp{tag}"
        _ip("route", "replace", "unreachable", str(BLOCK))  # the guard: never the default route
        link = self._free_link()
        self.host_ip, self.peer_ip = str(link[1]), str(link[2])
        _ip("netns", "add", self.name)
        try:
            _ip("link", "add", self.host_if, "type", "veth", "peer", "name", peer_if, "netns", self.name)
            _ip("addr", "add", f"{self.host_ip}/30", "dev", self.host_if)
            _ip("link", "set", self.host_if, "up")
            _ip("link", "set", "lo", "up", netns=self.name)
            _ip("addr", "add", f"{self.peer_ip}/30", "dev", peer_if, netns=self.name)
            _ip("link", "set", peer_if, "up", netns=self.name)
        except BaseException:
            self.close()
            raise
        self._ports: set[int] = set()

    @staticmethod
    def _free_link() -> ipaddress.IPv4Network:
        used = _ip("-4", "route", "show").stdout + _ip("-4", "addr", "show").stdout
        links = list(BLOCK.subnets(new_prefix=30))
        for _ in range(200):
            link = random.choice(links)
            if f"{link.network_address}/30" not in used and f" {link[1]}/" not in used and f" {link[2]}/" not in used:
                return link
        raise RuntimeError(f"no free /30 in {BLOCK}")

    @staticmethod
    def _remove_stale() -> None:
        for line in _ip("netns", "list", check=False).stdout.splitlines():
            name = line.split()[0] if line.split() else ""
            pid = name[len(NETNS_PREFIX):].split("-")[0]
            if name.startswith(NETNS_PREFIX) and pid.isdigit() and not _pid_alive(int(pid)):
                _ip("netns", "del", name, check=False)

    def free_port(self) -> int:
        """A port for a listener inside the namespace (it holds only our peers), below the range
        the kernel picks outgoing connections' ports from."""
        while True:
            port = random.randint(20000, 32000)
            if port not in self._ports:
                self._ports.add(port)
                return port

    def command(self, argv: list[str]) -> list[str]:
        """``argv`` run inside the namespace."""
        return ["ip", "netns", "exec", self.name, *argv]

    def close(self) -> None:
        _ip("link", "del", self.host_if, check=False)
        _ip("netns", "del", self.name, check=False)
        others = [line for line in _ip("netns", "list", check=False).stdout.splitlines()
                  if line.startswith(NETNS_PREFIX)]
        if not others:
            _ip("route", "del", "unreachable", str(BLOCK), check=False)


class ViamServer:
    """viam-server in the peer namespace, with a local config (no cloud) written from a dict.

    ``address`` is where this host dials it. ``start()`` again serves on the same port.
    """

    def __init__(self, net: PeerNetwork, config: dict[str, Any], workdir: Path, *, port: int | None = None,
                 name: str = "viam-server", tls: tuple[Path, Path] | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.net, self.workdir, self.name, self.extra_env = net, workdir, name, dict(env or {})
        self.port = port or net.free_port()
        self.address = f"{net.peer_ip}:{self.port}"
        self.tls = tls
        self.config_path = workdir / f"{name}.json"
        self.log_path = workdir / f"{name}.log"
        self.proc: subprocess.Popen | None = None
        self.write_config(config)

    def write_config(self, config: dict[str, Any]) -> None:
        network = {**config.get("network", {}), "bind_address": self.address}
        if self.tls:
            network.update(tls_cert_file=str(self.tls[0]), tls_key_file=str(self.tls[1]))
        self.config = {**config, "network": network}
        tmp = self.config_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.config, indent=1))
        tmp.replace(self.config_path)

    def start(self, timeout: float = 60.0) -> ViamServer:
        home = self.workdir / f"{self.name}-home"
        home.mkdir(exist_ok=True)
        argv = [str(binary("viam-server")), "-config", str(self.config_path), "-disable-mdns", "-ftdc=false"]
        if not self.tls:
            argv.append("-no-tls")
        env = {"HOME": str(home), "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TZ": "UTC", **self.extra_env}
        log = self.log_path.open("a")
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen(self.net.command(argv), stdout=log, stderr=subprocess.STDOUT, env=env,
                                     cwd=str(self.workdir))
        log.close()
        self.wait_serving(timeout)
        if not self.config.get("auth"):
            self.wait_resources([c["name"] for c in self.config.get("components", [])], timeout)
        return self

    def resource_names(self, timeout: float = 5.0) -> list[str]:
        """The names viam-server lists now (plaintext, no key: for machines without auth)."""
        import grpc

        from viamlite.gen import robot_pb2 as pb

        with grpc.insecure_channel(self.address) as channel:
            call = channel.unary_unary("/viam.robot.v1.RobotService/ResourceNames",
                                       request_serializer=pb.ResourceNamesRequest.SerializeToString,
                                       response_deserializer=pb.ResourceNamesResponse.FromString)
            return sorted(r.name for r in call(pb.ResourceNamesRequest(), timeout=timeout).resources)

    def wait_resources(self, names: list[str], timeout: float) -> None:
        """Until every one of ``names`` is listed: viam-server serves before it builds the resources."""
        import grpc

        deadline, listed = time.monotonic() + timeout, []
        while time.monotonic() < deadline:
            try:
                listed = self.resource_names()
                if set(names) <= set(listed):
                    return
            except grpc.RpcError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"viam-server listed {listed}, not all of {names}, within {timeout} s:\n{self.log_tail()}")

    def wait_serving(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        assert self.proc is not None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"viam-server exited early ({self.proc.returncode}):\n{self.log_tail()}")
            try:
                socket.create_connection((self.net.peer_ip, self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"viam-server did not listen on {self.address} within {timeout} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def kill(self) -> None:
        """SIGKILL: the machine is gone at once, as when its host loses power."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
        if self.proc is not None:
            self.proc.wait(10)

    def stop(self, timeout: float = 15.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


def make_certificate(directory: Path, ips: list[str], name: str = "peer") -> tuple[Path, Path]:
    """A self-signed certificate (its own root) for ``ips``: (cert, key) PEM paths."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ips[0])])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / f"{name}.crt", directory / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path
