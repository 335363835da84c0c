"""``make image-check``: the committed Dockerfile, built and run on this machine.

No container registry is reachable here, so the base image is a stand-in built from
Debian packages with debootstrap (``deploy/image-check/build-standin-base.sh``: Debian's
Python 3.11 with venv, the same interface as ``python:3.11-slim``). The Dockerfile itself
is the committed one, unchanged: the build context is ``git archive HEAD``, and only the
``PYTHON_IMAGE`` build argument differs. buildah builds it (``--format docker`` keeps the
HEALTHCHECK; chroot isolation; the host's CA bundle mounted read-only for pip); podman runs
it with runc and explicit rlimits, on the host network so that the container reaches a
FHIR server on loopback and we reach the container on loopback.

Needs root; collected only with LDN_IMAGE_CHECK=1 (see tests/conftest.py).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from io import BytesIO
from pathlib import Path

import httpx
import pytest

from devtools.fhir_server import FhirServerConfig
from devtools.fixtures import hook_request, scenario
from tests.support.cards import conflict_cards
from tests.support.conformance import assert_conformant_response
from tests.support.fhir_server import FhirServer, fhir_server_running
from tests.support.security import BASE_URL, DEPLOYMENT_SECRET, bearer, es384_key, jwks, mint, write_issuers
from tests.support.servers import LOOPBACK, PROJECT_ROOT, free_port

BASE_IMAGE = "localhost/ldn-cds-standin-python:3.11"
IMAGE = "localhost/ldn-cds:image-check"
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
RUN = ["--runtime", "runc", "--network", "host", "--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096"]
ISS = "https://ehr.image-check.test/cds-client"
FHIR_TOKEN = "image-check-fhir-token"
SERVICE = "/cds-services/ldn-order-select"
STARTED = time.monotonic()
LIST_PROCESSES = """
import os
for pid in sorted((p for p in os.listdir('/proc') if p.isdigit() and int(p) != os.getpid()), key=int):
    uid = next(l.split()[1] for l in open(f'/proc/{pid}/status') if l.startswith('Uid:'))
    print(pid, uid, open(f'/proc/{pid}/cmdline').read().replace(chr(0), ' ').strip())
"""


def say(message: str) -> None:
    print(f"\n[image-check {time.monotonic() - STARTED:6.1f} s] {message}", flush=True)


def run(
    *command: str, log: Path | None = None, timeout: float = 900, check: bool = True
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(list(command), capture_output=True, text=True, timeout=timeout)
    if log is not None:
        with log.open("a") as out:
            out.write(f"$ {' '.join(command)}\n{result.stdout}{result.stderr}\n")
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(command)} exited {result.returncode}:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
        )
    return result


@pytest.fixture(scope="session")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    assert os.geteuid() == 0, "make image-check needs root (debootstrap, buildah, podman)"
    for tool in ("debootstrap", "buildah", "podman", "runc", "git"):
        assert shutil.which(tool), f"{tool} missing: deploy/image-check/install-tools.sh installs it"
    assert Path(CA_BUNDLE).exists(), f"no CA bundle at {CA_BUNDLE} to lend pip inside the build"
    directory = tmp_path_factory.mktemp("image-check")
    say(f"logs in {directory}")
    return directory


@pytest.fixture(scope="session")
def stand_in_base(workdir: Path) -> str:
    say(f"building the stand-in base image {BASE_IMAGE} with debootstrap")
    run("podman", "rmi", "--force", BASE_IMAGE, check=False)
    result = run(str(PROJECT_ROOT / "deploy/image-check/build-standin-base.sh"), BASE_IMAGE, log=workdir / "base.log")
    say(result.stdout.strip().splitlines()[-1])
    return BASE_IMAGE


@pytest.fixture(scope="session")
def committed_context(workdir: Path) -> Path:
    """The committed tree (git archive HEAD): the Dockerfile and context exactly as committed."""
    head = run("git", "-C", str(PROJECT_ROOT), "rev-parse", "--short", "HEAD").stdout.strip()
    archive = subprocess.run(
        ["git", "-C", str(PROJECT_ROOT), "archive", "HEAD"], capture_output=True, check=True
    ).stdout
    context = workdir / "context"
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(context, filter="data")
    say(f"build context: git archive of commit {head}")
    return context


@pytest.fixture(scope="session")
def image(stand_in_base: str, committed_context: Path, workdir: Path) -> str:
    say(
        f"buildah build --format docker --isolation chroot --build-arg PYTHON_IMAGE={stand_in_base} (committed Dockerfile)"
    )
    run("podman", "rmi", "--force", IMAGE, check=False)
    began = time.monotonic()
    run(
        "buildah",
        "build",
        "--format",
        "docker",
        "--isolation",
        "chroot",
        "--ulimit",
        "nofile=4096:4096",
        "--build-arg",
        f"PYTHON_IMAGE={stand_in_base}",
        "--volume",
        f"{CA_BUNDLE}:{CA_BUNDLE}:ro",
        "--file",
        str(committed_context / "Dockerfile"),
        "--tag",
        IMAGE,
        str(committed_context),
        log=workdir / "build.log",
    )
    size = run("podman", "image", "inspect", IMAGE, "--format", "{{.Size}}").stdout.strip()
    say(f"built {IMAGE} in {time.monotonic() - began:.0f} s ({int(size) / 2**20:.0f} MiB)")
    return IMAGE


@pytest.fixture(scope="session")
def inspected(image: str) -> dict:
    (found,) = json.loads(run("podman", "image", "inspect", image).stdout)
    return found


@pytest.fixture(scope="session")
def signing():
    """The EHR's signing key, generated for this run; the container trusts its public half."""
    return es384_key()


@pytest.fixture(scope="session")
def fhir() -> Iterator[FhirServer]:
    with fhir_server_running(FhirServerConfig(required_token=FHIR_TOKEN, today=date.today())) as server:
        yield server


@dataclass
class Container:
    name: str
    api: str
    admin: str

    def exec(self, *command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return run("podman", "exec", self.name, *command, check=check)

    def logs(self) -> str:
        result = run("podman", "logs", self.name, check=False)
        return result.stdout + result.stderr


def start(image: str, workdir: Path, fhir: FhirServer, key, *extra: str) -> Container:
    """The image as shipped (production, two workers, admin port), configured only through
    the environment and a mounted issuers file, as docs/deployment.md says."""
    name = f"ldn-cds-check-{uuid.uuid4().hex[:8]}"
    port, admin_port = free_port(), free_port()
    issuers = write_issuers(workdir, [{"iss": ISS, "jwks": jwks(key), "fhir_servers": [fhir.base_url]}])
    issuers.chmod(0o644)
    run(
        "podman",
        "run",
        "--detach",
        "--name",
        name,
        *RUN,
        *extra,
        "--env",
        f"CDS_PUBLIC_BASE_URL={BASE_URL}",
        "--env",
        f"CDS_DEPLOYMENT_SECRET={DEPLOYMENT_SECRET}",
        "--env",
        f"PORT={port}",
        "--env",
        f"CDS_ADMIN_PORT={admin_port}",
        "--volume",
        f"{issuers}:/etc/ldn-cds/trusted-issuers.json:ro",
        image,
    )
    container = Container(name=name, api=f"http://{LOOPBACK}:{port}", admin=f"http://{LOOPBACK}:{admin_port}")
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{container.api}/readyz", timeout=1).status_code == 200:
                return container
        except httpx.HTTPError:
            pass
        state = run("podman", "inspect", name, "--format", "{{.State.Status}}").stdout.strip()
        assert state == "running" and time.monotonic() < deadline, f"container {state}:\n{container.logs()}"
        time.sleep(0.3)


def stop_with_sigterm(container: Container) -> int:
    run("podman", "kill", "--signal", "TERM", container.name)
    return int(run("podman", "wait", container.name, timeout=60).stdout.strip())


@pytest.fixture(scope="module")
def shipped(image: str, workdir: Path, fhir: FhirServer, signing) -> Iterator[Container]:
    container = start(image, workdir, fhir, signing)
    say(f"running {container.name}: API {container.api}, admin {container.admin}")
    yield container
    run("podman", "rm", "--force", "--volumes", container.name, check=False)


def signed_hook_call(container: Container, fhir: FhirServer, key) -> httpx.Response:
    request = hook_request(
        scenario("oxycodone-active-ldn-select"),
        with_prefetch=False,
        fhir_server=fhir.base_url,
        access_token=FHIR_TOKEN,
        today=date.today(),
    )
    token = mint(key, SERVICE, iss=ISS)
    return httpx.post(container.api + SERVICE, json=request, headers=bearer(token), timeout=15)


# ---------------------------------------------------------------------------- the checks


def test_the_image_keeps_its_healthcheck_user_and_production_default(inspected: dict) -> None:
    assert inspected["ManifestType"] == "application/vnd.docker.distribution.manifest.v2+json"
    assert inspected["Healthcheck"]["Test"] == ["CMD", "ldn-cds", "healthcheck"]  # dropped by the OCI format
    assert inspected["Config"]["User"] == "10001:10001"
    assert "CDS_ENV=production" in inspected["Config"]["Env"]


def test_healthz_answers(shipped: Container) -> None:
    response = httpx.get(f"{shipped.api}/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_a_hook_call_with_a_signed_token_reads_the_fhir_server_and_gets_the_card(
    shipped: Container, fhir: FhirServer, signing
) -> None:
    fhir.reset()
    response = signed_hook_call(shipped, fhir, signing)
    assert response.status_code == 200, response.text
    cards = assert_conformant_response(response.json())
    (card,) = conflict_cards(cards)
    assert card["indicator"] == "critical" and "oxycodone" in card["summary"]
    assert set(fhir.config.seen_authorization) == {f"Bearer {FHIR_TOKEN}"}, (
        "the EHR token went to the listed FHIR server"
    )
    unsigned = httpx.post(shipped.api + SERVICE, json={}, timeout=15)
    assert unsigned.status_code == 401 and unsigned.content == b""
    say(f"signed ES384 call answered 200; cards: {[c['indicator'] for c in cards]}")


def test_metrics_are_on_the_admin_port_only(shipped: Container) -> None:
    metrics = httpx.get(f"{shipped.admin}/metrics")
    assert metrics.status_code == 200 and "ldn_cds_cards_emitted_total" in metrics.text
    assert httpx.get(f"{shipped.api}/metrics").status_code == 404
    assert httpx.get(f"{shipped.api}/docs").status_code == 404


def test_the_service_runs_as_the_non_root_uid(shipped: Container) -> None:
    status = shipped.exec("cat", "/proc/1/status").stdout
    uids = next(line.split()[1:] for line in status.splitlines() if line.startswith("Uid:"))
    assert set(uids) == {"10001"}, status
    # Every process of the service (the supervisor and its two workers); the image has no ps(1).
    listing = shipped.exec("python", "-c", LIST_PROCESSES).stdout
    say("processes (pid uid command):\n" + listing.rstrip())
    rows = [line.split(maxsplit=2) for line in listing.splitlines()]
    assert len(rows) >= 3 and all(uid == "10001" for _, uid, _ in rows), listing


def test_the_healthcheck_command_succeeds_inside(shipped: Container, inspected: dict) -> None:
    command = inspected["Healthcheck"]["Test"][1:]  # no systemd here to schedule it: run it as declared
    result = shipped.exec(*command, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_sigterm_stops_it_cleanly_with_exit_0(shipped: Container) -> None:
    exit_code = stop_with_sigterm(shipped)
    logs = shipped.logs()
    assert exit_code == 0, logs[-3000:]
    assert "Application shutdown complete" in logs
    say(f"SIGTERM: exit status {exit_code}")


def test_it_runs_with_a_read_only_root_and_a_tmpfs_tmp(image: str, workdir: Path, fhir: FhirServer, signing) -> None:
    volume = f"ldn-cds-check-data-{uuid.uuid4().hex[:8]}"
    container = start(
        image,
        workdir,
        fhir,
        signing,
        "--read-only",
        "--tmpfs",
        "/tmp:rw,size=64m,mode=1777",
        "--volume",
        f"{volume}:/var/lib/ldn-cds",
    )
    try:
        assert (
            run("podman", "inspect", container.name, "--format", "{{.HostConfig.ReadonlyRootfs}}").stdout.strip()
            == "true"
        )
        refused = container.exec("sh", "-c", "touch /opt/ldn-cds/probe", check=False)
        assert refused.returncode != 0 and "Read-only file system" in refused.stderr
        response = signed_hook_call(container, fhir, signing)
        assert response.status_code == 200, response.text
        card = response.json()["cards"][0]
        feedback = {
            "feedback": [
                {
                    "card": card["uuid"],
                    "outcome": "accepted",
                    "acceptedSuggestions": [{"id": card["suggestions"][0]["uuid"]}],
                    "outcomeTimestamp": "2026-12-01T10:00:00Z",
                }
            ]
        }
        stored = httpx.post(
            container.api + SERVICE + "/feedback",
            json=feedback,
            headers=bearer(mint(signing, SERVICE + "/feedback", iss=ISS)),
            timeout=15,
        )
        assert stored.status_code == 200 and stored.json() == {"received": 1}
        assert httpx.get(f"{container.admin}/metrics").status_code == 200  # worker files in the tmpfs /tmp
        assert stop_with_sigterm(container) == 0
        say("read-only root + tmpfs /tmp: hook call 200, feedback stored, metrics served, SIGTERM exit 0")
    finally:
        run("podman", "rm", "--force", "--volumes", container.name, check=False)
        run("podman", "volume", "rm", "--force", volume, check=False)
