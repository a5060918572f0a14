"""deploy/'s systemd units run the way systemd runs them, with the installation's paths swapped.

- `read_unit`, `read_env_file`: the unit and environment-file syntax the files in deploy/ use
  (repeated keys accumulate; `KEY=VALUE` lines). Anything this reader would misread (line
  continuations, quotes, command prefixes such as `-`) fails loudly instead.
- `Layout`: where the installation's paths (`/opt/coterie`, `/etc/coterie`, `/var/lib/coterie`)
  point in a test; applied to the unit text and to the environment file, nothing else changes.
- `UnitProcess`: one ExecStart= command of a unit, with the environment systemd gives it
  (EnvironmentFile=, Environment=, LoadCredential= as $CREDENTIALS_DIRECTORY), its
  WorkingDirectory= and its own process group (the unit's control group); `stop()` does what
  `systemctl stop` does: KillSignal= to the processes KillMode= names, SIGKILL after
  TimeoutStopSec=.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
# what systemd gives every service before its own variables (systemd.exec(5), "Environment")
SYSTEMD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_TIME_UNITS = {"ms": 0.001, "s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600}


@dataclass(frozen=True)
class Unit:
    name: str
    sections: dict[str, dict[str, list[str]]]

    def values(self, section: str, key: str) -> list[str]:
        return self.sections.get(section, {}).get(key, [])

    def value(self, section: str, key: str, default: str | None = None) -> str | None:
        found = self.values(section, key)
        return found[-1] if found else default  # a later assignment wins


def read_unit(text: str, name: str) -> Unit:
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        assert not line.endswith("\\"), f"{name}:{number}: continuation lines are not read here"
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None, f"{name}:{number}: outside a [Section]"
        assert "=" in line, f"{name}:{number}: not KEY=VALUE: {raw!r}"
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return Unit(name, sections)


def read_env_file(text: str) -> dict[str, str]:
    """systemd's EnvironmentFile= for the plain subset: `KEY=VALUE`, `#` comments."""
    variables: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        assert sep, f"line {number}: not KEY=VALUE: {raw!r}"
        assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key), f"line {number}: {raw!r}"
        assert not set("\"'\\$") & set(value), f"line {number}: quotes, \\ and $ are not read here"
        variables[key] = value.strip()
    return variables


def write_env_file(path: Path, example: str, overrides: dict[str, str]) -> None:
    """`example` with the values of `overrides` (every key must be in it) put in place."""
    missing = set(overrides) - set(read_env_file(example))
    assert not missing, f"not in the example environment file: {sorted(missing)}"
    lines = []
    for line in example.splitlines():
        key = line.partition("=")[0]
        lines.append(f"{key}={overrides[key]}" if key in overrides else line)
    path.write_text("\n".join(lines) + "\n")


def seconds(span: str) -> float:
    """A systemd time span: `30s`, `15min`, `1min 30s`, `90` (seconds)."""
    total = 0.0
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)\s*([a-z]*)", span):
        total += float(number) * _TIME_UNITS[unit or "s"]
    return total


@dataclass(frozen=True)
class Layout:
    """Installation path -> the path a test uses instead."""

    paths: dict[str, Path]

    def map(self, text: str) -> str:
        for installed in sorted(self.paths, key=len, reverse=True):
            text = text.replace(installed, str(self.paths[installed]))
        return text

    def unit(self, name: str) -> Unit:
        return read_unit(self.map((DEPLOY / "systemd" / name).read_text()), name)


def command_line(line: str, variables: dict[str, str]) -> list[str]:
    """An ExecStart= line as argv: `${VAR}` expanded from the unit's environment."""
    assert line[:1] not in set("-@+!:"), f"command prefixes are not run here: {line}"

    def expand(match: re.Match[str]) -> str:
        return variables[match.group(1)]  # KeyError: the environment file lacks a variable

    assert "$" not in _VARIABLE.sub("", line), f"only ${{VAR}} is expanded here: {line}"
    return shlex.split(_VARIABLE.sub(expand, line))


def environment(unit: Unit, credentials: Path) -> dict[str, str]:
    """The variables systemd gives the unit's processes; its credentials copied to
    `credentials` (LoadCredential=ID:PATH)."""
    variables = {"PATH": SYSTEMD_PATH, "LANG": "C.UTF-8"}
    for path in unit.values("Service", "EnvironmentFile"):
        variables.update(read_env_file(Path(path).read_text()))
    for assignment in unit.values("Service", "Environment"):
        for item in shlex.split(assignment):
            key, _, value = item.partition("=")
            variables[key] = value
    loaded = unit.values("Service", "LoadCredential")
    if loaded:
        credentials.mkdir(mode=0o700, parents=True)
        for credential in loaded:
            name, _, source = credential.partition(":")
            shutil.copyfile(source, credentials / name)  # a missing file fails, as in systemd
        variables["CREDENTIALS_DIRECTORY"] = str(credentials)
    return variables


@dataclass
class UnitProcess:
    """One ExecStart= of `unit`, started in its own process group (its "control group")."""

    unit: Unit
    command: str
    log_path: Path
    variables: dict[str, str]
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def start(self) -> None:
        cwd = self.unit.value("Service", "WorkingDirectory")
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command_line(self.command, self.variables),
                env=self.variables,
                cwd=cwd,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def run(self, timeout: float) -> None:
        """Start and wait, like a Type=oneshot unit: a non-zero status fails with the log."""
        self.start()
        assert self.process is not None
        status = self.process.wait(timeout=timeout)
        assert status == 0, f"{self.command} exited {status}:\n{self.log()}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def members(self) -> list[int]:
        """The live processes of the unit's group."""
        return _group_members(self.process.pid) if self.process is not None else []

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def timeout_stop(self) -> float:
        return seconds(self.unit.value("Service", "TimeoutStopSec", "90s") or "90s")

    def stop(self) -> float:
        """`systemctl stop`: KillSignal= to the main process (KillMode=mixed) or to every process
        of the group (control-group, the default); SIGKILL to what is left after
        TimeoutStopSec= (mixed: once the main process exited). Returns the seconds until the
        group was empty (mixed: until the main process exited)."""
        assert self.process is not None
        group = self.process.pid
        name = self.unit.value("Service", "KillSignal", "SIGTERM") or "SIGTERM"
        kill_signal = signal.Signals[name]
        mode = self.unit.value("Service", "KillMode", "control-group")
        assert mode in ("control-group", "mixed"), f"KillMode={mode} is not emulated here"
        started = time.monotonic()
        if mode == "mixed":
            self.process.send_signal(kill_signal)
        else:
            os.killpg(group, kill_signal)
        deadline = started + self.timeout_stop
        while time.monotonic() < deadline:
            main_exited = self.process.poll() is not None
            left = _group_members(group)
            if not left or (mode == "mixed" and main_exited):
                break
            time.sleep(0.05)
        elapsed = time.monotonic() - started
        self.kill()  # systemd's SIGKILL to what is left (mixed: once the main process exited)
        return elapsed

    def kill(self) -> None:
        if self.process is None:
            return
        if _group_members(self.process.pid):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


def _group_members(group: int) -> list[int]:
    """Live (not zombie) processes of process group `group`."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rpartition(")")[2].split()
        state, pgrp = fields[0], int(fields[2])
        if pgrp == group and state != "Z":
            members.append(int(entry.name))
    return members
