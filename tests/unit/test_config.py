"""--alb, --tenant, --readback-timeout and --run-id: every accepted form, and a one-line
error that says what to fix for everything else."""
import pytest

from lgtm_smoke.settings import (
    UsageError,
    find_tfvars,
    load_tfvars,
    parse_alb,
    parse_run_id,
    parse_tenant,
    parse_timeout,
)


@pytest.mark.parametrize("raw, base", [
    ("lgtm-prod-alb-1.ap-northeast-2.elb.amazonaws.com", "http://lgtm-prod-alb-1.ap-northeast-2.elb.amazonaws.com"),
    ("alb.example:8080", "http://alb.example:8080"),
    ("https://alb.example", "https://alb.example"),
    ("http://alb.example/observability/", "http://alb.example/observability"),
    ("  127.0.0.1:9  ", "http://127.0.0.1:9"),
    ("http://[::1]:8080", "http://::1:8080"),
])
def test_alb_accepts_host_host_port_and_url_with_prefix(raw, base):
    alb = parse_alb(raw)
    assert alb.base_url.replace("[", "").replace("]", "") == base
    assert alb.url("/api/v1/push") == alb.base_url + "/api/v1/push"


@pytest.mark.parametrize("raw, says", [
    ("", "is empty"), ("ftp://x", "scheme must be http or https"), ("http://", "no valid host"),
    ("x:notaport", "not a valid address"), ("http://x/?a=1", "query or fragment"),
    ("http://user:pw@x", "must not carry credentials"),
])
def test_alb_rejects_with_a_line_that_says_what_to_fix(raw, says):
    with pytest.raises(UsageError, match=says) as e:
        parse_alb(raw)
    assert "\n" not in str(e.value) and "e.g. --alb" in str(e.value)


@pytest.mark.parametrize("raw, ok", [("30", 30.0), ("0.5", 0.5), (5, 5.0)])
def test_timeout_accepts_positive_seconds(raw, ok):
    assert parse_timeout(raw) == ok


@pytest.mark.parametrize("raw", ["0", "-1", "nan", "soon", "99999"])
def test_timeout_rejects_non_positive_or_absurd(raw):
    with pytest.raises(UsageError):
        parse_timeout(raw)


@pytest.mark.parametrize("raw", ["", "a/b", "has space", "x" * 151, "..", "pipe|d"])
def test_tenant_rejects_what_backends_would(raw):
    with pytest.raises(UsageError):
        parse_tenant(raw, "--tenant")


def test_run_id_is_12_hex_and_fits_a_float_exactly():
    assert parse_run_id("ABCDEF012345") == "abcdef012345"
    assert float(int("ffffffffffff", 16)) == int("ffffffffffff", 16)
    with pytest.raises(UsageError):
        parse_run_id("12345")


def test_tfvars_found_in_a_parent_directory_and_parsed(tmp_path):
    tf = tmp_path / "infra/terraform/environments/prod/common.tfvars"
    tf.parent.mkdir(parents=True)
    tf.write_text('tenant_id = "t1"\nstorage_prefixes = { mimir = "mimir" }\n')
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    found = find_tfvars(None, deep)
    assert found == tf
    assert load_tfvars(found) == {"tenant_id": "t1", "storage_prefixes": {"mimir": "mimir"}}


def test_the_shipped_tfvars_names_a_valid_tenant(repo_root):
    tfvars = load_tfvars(find_tfvars(None, repo_root))
    assert parse_tenant(tfvars.get("tenant_id"), "tenant_id") == tfvars["tenant_id"]


def test_credentials_in_alb_are_refused_without_echoing_them():
    with pytest.raises(UsageError) as e:
        parse_alb("http://admin:s3cret@alb.example:notaport")
    assert "s3cret" not in str(e.value) and "credentials" in str(e.value)
