"""payloads/ holds exactly what the encoders make (`lgtm-smoke payloads --check`), byte for byte and
the same in every process, and each file, once stamped as the runbook stamps it, is a body the
suite's own decoders read back as the suite's labels with a fresh time."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time

import pytest

from lgtm_smoke import cli, payloads
from lgtm_smoke.backends.pyroscope import client as pyroscope
from lgtm_smoke.protocol import otlp, pprof, remote_write


@pytest.fixture
def folder(repo_root):
    return repo_root / "payloads"


def test_committed_payloads_are_what_the_encoders_make(folder, capsys):
    code = cli.main(["payloads", "--check", "--dir", str(folder)])
    assert code == 0, f"payloads/ drifted; run `lgtm-smoke payloads` and commit:\n{capsys.readouterr().out}"


@pytest.mark.parametrize("damage, says", [
    (lambda d: (d / "loki-push.json").write_text('{"streams": []}\n'), "loki-push.json: differs from what the encoders make"),
    (lambda d: (d / "mimir-remote-write.bin").unlink(), "mimir-remote-write.bin: missing"),
    (lambda d: (d / "old-body.json").write_text("{}"), "old-body.json: not made by the encoders (stray file)"),
])
def test_check_names_the_drifted_file_and_exits_1(folder, tmp_path, capsys, damage, says):
    copy = tmp_path / "payloads"
    shutil.copytree(folder, copy)
    damage(copy)
    assert cli.main(["payloads", "--check", "--dir", str(copy)]) == 1
    out = capsys.readouterr()
    assert out.out.splitlines() == [f"{copy}/{says}"]
    assert "regenerate with `lgtm-smoke payloads`" in out.err


def test_writing_makes_a_folder_that_checks_clean(tmp_path, capsys):
    assert cli.main(["payloads", "--dir", str(tmp_path / "p")]) == 0
    assert payloads.drift(tmp_path / "p") == []
    assert (tmp_path / "p/mimir-remote-write.sh").stat().st_mode & 0o111
    assert cli.main(["payloads", "--dir", str(tmp_path / "p")]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"{tmp_path / 'p'}/: unchanged"


def test_without_a_payloads_folder_here_it_is_one_usage_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["payloads"]) == cli.USAGE_ERROR
    err = capsys.readouterr().err.strip()
    assert err.splitlines() == [err] and "run from the root of a checkout, or pass --dir DIR" in err
    assert not (tmp_path / "payloads").exists()


def test_the_bytes_are_the_same_in_another_process(repo_root):
    """Binary files are committed, so they must not depend on the process (hash seed, import order)."""
    code = "import sys; from lgtm_smoke import payloads; sys.stdout.buffer.write(b''.join(payloads.build().values()))"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True,
                           env={"PYTHONHASHSEED": "12345", "PATH": ""}).stdout
    assert other == b"".join(payloads.build().values())


@pytest.mark.parametrize("ms", [1_796_603_562_669, 2**35, 2**42 - 1])
def test_the_stamped_remote_write_is_the_suites_sample_at_that_time(folder, ms):
    body = subprocess.run(["sh", str(folder / "mimir-remote-write.sh"), str(ms)], capture_output=True, check=True).stdout
    assert remote_write.decode(body) == [remote_write.Series(payloads.MIMIR_LABELS, 51729.0, ms)]
    assert set(payloads.MIMIR_LABELS) == set(remote_write.decode(payloads.mimir_remote_write())[0].labels)


@pytest.mark.parametrize("arg, says", [("soon", "'soon' is not a time in Unix milliseconds"),
                                       ("1796603562", "1796603562 ms is not a time between 1971 and 2109")])
def test_the_stamp_script_refuses_a_time_it_cannot_encode(folder, arg, says):
    proc = subprocess.run(["sh", str(folder / "mimir-remote-write.sh"), arg], capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stdout == "" and proc.stderr.strip() == f"mimir-remote-write.sh: {says}"


def test_the_stamp_script_stamps_now_by_default(folder):
    body = subprocess.run(["sh", str(folder / "mimir-remote-write.sh")], capture_output=True, check=True).stdout
    assert abs(remote_write.decode(body)[0].timestamp_ms - time.time() * 1000) < 10_000


def test_the_loki_body_with_its_time_filled_in_is_the_suites_stream(folder):
    body = json.loads((folder / "loki-push.json").read_text().replace(payloads.NOW_NS, "1796603562685670859"))
    assert body == {"streams": [{"stream": {"job": "lgtm-smoke", "check": "runbook"},
                                 "values": [["1796603562685670859", payloads.FINDS["loki"]]]}]}


def test_the_trace_with_its_id_and_time_filled_in_is_valid_otlp_json(folder):
    trace_id, now = "0123456789abcdef0123456789abcdef", 1_796_603_562_685_670_859
    text = (folder / "tempo-trace.json").read_text().replace(payloads.TRACE_ID, trace_id).replace(payloads.NOW_NS, str(now))
    span = otlp.decode_request(text.encode(), "application/json").resource_spans[0].scope_spans[0].spans[0]
    assert (span.trace_id.hex(), span.name, span.start_time_unix_nano, span.end_time_unix_nano) == (
        trace_id, payloads.FINDS["tempo"], now, now)
    assert otlp.attrs(otlp.to_dict(span)["attributes"]) == {"lgtm_smoke.run": payloads.RUN_ID}


def test_the_profile_has_no_time_and_the_suites_stacks(folder):
    profile = pprof.decode((folder / "pyroscope-cpu.pb.gz").read_bytes())
    assert profile.time_nanos == 0  # Pyroscope stamps it at ingest
    assert {s.frames: s.value for s in pprof.stacks(profile, 1)} == pyroscope.expected_stacks(payloads.RUN_ID)
    assert payloads.PYROSCOPE_LABELS == {"service_name": "lgtm-smoke", "check": "runbook", "run_slot": "11"}
