"""The images: Dockerfiles on a pinned upstream base version, backends started with
-config.expand-env on the config they copy, and ECR tags unique per build."""

from __future__ import annotations

import re

from .tree import BACKENDS, CONFIG_FILE, MODULES_DIR, SERVICES, Infra, blocks, parse_yaml, preflight


@preflight
def check_ecr_tags_unique_per_build(infra: Infra) -> list[str]:
    """The deploy workflow pushes a fresh `<version>-<timestamp>` tag and passes only the
    base version as build-arg VERSION; tfvars image_versions stay plain base versions and
    ECR tags are immutable.

    2026-01-16 04:30: an unchanged tag never rolled the tasks, and putting
    `2.9.0-20260116` into image_versions broke `FROM grafana/tempo:${VERSION}`.
    """
    problems = []
    wf_text = infra.workflows().get("deploy-ecs.yaml")
    if wf_text is None:
        return ["no .github/workflows/deploy-ecs.yaml"]
    wf = parse_yaml(wf_text) or {}
    steps = [s for job in (wf.get("jobs") or {}).values() for s in (job.get("steps") or [])]
    builds = [s for s in steps if str(s.get("uses", "")).startswith("docker/build-push-action")]
    if not builds:
        problems.append("deploy-ecs.yaml has no docker/build-push-action step")
    for step in builds:
        w = step.get("with") or {}
        m = re.search(r"(?m)^\s*VERSION=(.+?)\s*$", str(w.get("build-args", "")))
        version_expr = m.group(1) if m else None
        tag_expr = str(w.get("tags", "")).rsplit(":", 1)[-1].strip() if w.get("tags") else ""
        if not version_expr:
            problems.append("deploy-ecs.yaml build step passes no build-arg VERSION")
        elif "base_version" not in version_expr:
            problems.append(f"deploy-ecs.yaml build-arg VERSION={version_expr} must be the base version (base_version)")
        if not tag_expr:
            problems.append("deploy-ecs.yaml build step pushes no tag")
        elif version_expr and tag_expr.replace(" ", "") in version_expr.replace(" ", ""):
            problems.append(f"deploy-ecs.yaml pushes tag {tag_expr} = the base version: tags must be unique per build")
        elif "base_version" in tag_expr:
            problems.append(f"deploy-ecs.yaml pushes tag {tag_expr}, the base version: tags must be unique per build")
    if not re.search(r"date\s+(-u\s+)?['\"]?\+%Y%m%d-?%H%M%S", wf_text):
        problems.append("deploy-ecs.yaml makes no timestamp (date +%Y%m%d-%H%M%S) for the image tag")
    if not re.search(r"\{versions\[s\]\}-\{timestamp\}|\$\{?BASE_VERSION\}?-\$\{?TIMESTAMP\}?", wf_text):
        problems.append("deploy-ecs.yaml does not build the tag as <base version>-<timestamp>")
    for svc, v in (infra.tfvars.get("image_versions") or {}).items():
        if re.search(r"-\d{8}", str(v)):
            problems.append(f"image_versions.{svc} = {v!r} looks like a build tag; keep the upstream base version")
    repos = [b for t, n, b in blocks(infra.merged(f"{MODULES_DIR}/ecr"), "resource") if t == "aws_ecr_repository"]
    if not repos or any(b.get("image_tag_mutability") != "IMMUTABLE" for b in repos):
        problems.append("modules/ecr repositories must be IMMUTABLE so a reused tag fails the push")
    return problems


@preflight
def check_images_pin_base_version_and_expand_env(infra: Infra) -> list[str]:
    """Each image: `ARG VERSION` + `FROM grafana/<svc>:${VERSION}`, a pinned base version in
    image_versions, and backends started with -config.expand-env=true on the config they COPY.

    2026-01-15 18:00/19:30: configs moved to ${VAR}s; without -config.expand-env they are
    taken literally. 2026-01-16 04:30: the base version is the build-arg only.
    """
    problems = []
    versions = infra.tfvars.get("image_versions") or {}
    for svc in SERVICES:
        v = versions.get(svc)
        if not v or v in {"latest", "main"}:
            problems.append(f"image_versions.{svc} must pin a release (got {v!r})")
        df_rel = f"{infra.image_dir(svc)}/Dockerfile"
        if not infra.path(df_rel).exists():
            problems.append(f"{df_rel} missing")
            continue
        df = infra.text(df_rel)
        if not re.search(r"(?m)^ARG VERSION\s*$", df) or not re.search(rf"(?m)^FROM grafana/{svc}:\$\{{VERSION\}}\s*$", df):
            problems.append(f"{df_rel}: must be `ARG VERSION` then `FROM grafana/{svc}:${{VERSION}}`")
        if svc in BACKENDS:
            cmd = re.search(r"(?m)^CMD\s+(.*)$", df)
            cmd_text = cmd.group(1) if cmd else ""
            if "-config.expand-env=true" not in cmd_text:
                problems.append(f"{df_rel}: CMD lacks -config.expand-env=true (${{VAR}}s would stay literal)")
            m = re.search(r"-config\.file=([^\"',\s]+)", cmd_text)
            if not m or not re.search(rf"(?m)^COPY\s+{re.escape(CONFIG_FILE[svc])}\s+{re.escape(m.group(1))}\s*$", df):
                problems.append(f"{df_rel}: -config.file must be the path {CONFIG_FILE[svc]} is COPY'd to")
    return problems
