"""The images: Dockerfiles on a pinned upstream base version, backends started with
-config.expand-env on the config they copy, ECR tags unique per build, and the build-args the
deploy workflow passes them (the Mimir image's alert rules under the tenant, its Alertmanager
config paging the alerts topic)."""

from __future__ import annotations

import re

from .tree import BACKENDS, CONFIG_FILE, MODULES_DIR, SERVICES, Infra, blocks, dig, parse_yaml, preflight, strip_comments

MIMIR_RULES = "infra/images/mimir/rules"


def _build_steps(wf: dict) -> list[tuple[str, dict]]:
    """(job name, step) of every docker/build-push-action step of a parsed workflow."""
    return [(name, s) for name, job in (wf.get("jobs") or {}).items() for s in (job.get("steps") or [])
            if str(s.get("uses", "")).startswith("docker/build-push-action")]


def _build_arg(step: dict, name: str) -> str | None:
    """The expression a build step passes as build-arg `name`, or None."""
    m = re.search(rf"(?m)^\s*{name}=(.+?)\s*$", str((step.get("with") or {}).get("build-args", "")))
    return m.group(1) if m else None


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
    builds = [step for _, step in _build_steps(parse_yaml(wf_text) or {})]
    if not builds:
        problems.append("deploy-ecs.yaml has no docker/build-push-action step")
    for step in builds:
        w = step.get("with") or {}
        version_expr = _build_arg(step, "VERSION")
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


def _local_store(cfg: dict, section: str, path_key: str) -> tuple[dict, str]:
    """A Mimir `<section>` store and its local folder (no trailing '/'); the image is its only writer."""
    store = dig(cfg, (section,)) or {}
    return store, str(dig(store, ("local", path_key)) or "").rstrip("/")


def _mimir_dockerfile(infra: Infra) -> tuple[str, str]:
    """The Mimir Dockerfile's path and its text without comments."""
    rel = f"{infra.image_dir('mimir')}/Dockerfile"
    return rel, strip_comments(infra.text(rel), rel)


@preflight
def check_mimir_rules_under_tenant(infra: Infra) -> list[str]:
    """The Mimir image files every rule file of infra/images/mimir/rules/ under the ruler's `local`
    store directory (config.yaml ruler_storage) in `${TENANT}/` (`ARG TENANT`), and deploy-ecs.yaml's
    build step passes `TENANT=` the tenant_id of common.tfvars (the prepare job's output).

    Issue 21: the `local` store reads <directory>/<tenant>/*.yaml; without the build-arg the rules
    land in <directory>/ itself, belong to no tenant, never evaluate, and the canary pages nobody.
    """
    problems = []
    store, directory = _local_store(infra.config("mimir"), "ruler_storage", "directory")
    if store.get("backend") != "local" or not directory:
        problems.append(f"infra/images/mimir/config.yaml ruler_storage is {store!r}: the image's rules need backend "
                        "local with local.directory")
    df_rel, df = _mimir_dockerfile(infra)
    if not re.search(r"(?m)^ARG TENANT\s*$", df):
        problems.append(f"{df_rel}: no `ARG TENANT`, so ${{TENANT}} in its COPY is empty")
    copies = re.findall(r"(?m)^COPY\s+(?:--\S+\s+)*(\S+)\s+(\S+)\s*$", df)
    rules = sorted(p.name for p in infra.path(MIMIR_RULES).glob("*.y*ml"))
    if not rules:
        problems.append(f"{MIMIR_RULES} holds no rule file")
    for rule in rules:
        dests = [dest for src, dest in copies if src.rstrip("/") in {"rules", f"rules/{rule}"}]
        if not any(dest.startswith(f"{directory}/${{TENANT}}/") for dest in dests):
            problems.append(f"{df_rel}: {MIMIR_RULES}/{rule} is not COPY'd under {directory}/${{TENANT}}/ "
                            f"(copied to {dests or 'nowhere'}): the ruler never loads it for the tenant")
    wf_text = infra.workflows().get("deploy-ecs.yaml")
    wf = parse_yaml(wf_text or "") or {}
    builds = _build_steps(wf)
    if not builds:
        problems.append("deploy-ecs.yaml has no docker/build-push-action step that builds the Mimir image")
    for job, step in builds:
        tenant = _build_arg(step, "TENANT")
        if tenant is None:
            problems.append(f"deploy-ecs.yaml job {job}: the build step passes no build-arg TENANT, so the Mimir image "
                            f"files the canary's rules in {directory}/ under no tenant and the ruler loads none")
            continue
        ref = re.fullmatch(r"\$\{\{\s*needs\.([\w-]+)\.outputs\.([\w-]+)\s*\}\}", tenant)
        source = dig(wf, ("jobs", ref.group(1), "outputs", ref.group(2))) if ref else None
        step_ref = re.fullmatch(r"\$\{\{\s*steps\.([\w-]+)\.outputs\.([\w-]+)\s*\}\}", str(source or ""))
        runs = [str(s.get("run", "")) for s in dig(wf, ("jobs", ref.group(1), "steps")) or []
                if step_ref and s.get("id") == step_ref.group(1)] if ref else []
        if not step_ref or not any(re.search(rf"(?m)\b{step_ref.group(2)}=.*\btenant_id\b", r) for r in runs):
            problems.append(f"deploy-ecs.yaml job {job}: build-arg TENANT={tenant} is not a job output written "
                            "from common.tfvars tenant_id")
    return problems


def _heredoc_copies(dockerfile: str) -> dict[str, str]:
    """destination -> body of every `COPY <<WORD <destination>` here-document."""
    return {m.group(2): m.group(3) for m in re.finditer(r"(?m)^COPY\s+<<-?(\w+)\s+(\S+)\s*\n(.*?)^\1\s*$", dockerfile, re.S)}


@preflight
def check_mimir_pages_through_its_alertmanager(infra: Infra) -> list[str]:
    """Firing alerts reach a person: Mimir runs its Alertmanager (`target` holds alertmanager),
    the ruler sends to it on localhost at the Alertmanager's own path, whose configs come only
    from the image (`local` store, config API off); the image writes the tenant's config
    (`<local.path>/${TENANT}.yaml`) with an SNS receiver whose topic is the build-arg
    PAGE_TOPIC_ARN, and deploy-ecs.yaml composes that ARN from the name of the topic
    modules/iam makes.

    Issue 21: the ruler had no Alertmanager to send to (`ruler.alertmanager_url` unset, no
    Alertmanager running): the canary's alerts fired in Mimir and paged nobody.
    """
    problems = []
    cfg_rel = "infra/images/mimir/config.yaml"
    cfg = infra.config("mimir") or {}
    targets = [t.strip() for t in str(cfg.get("target", "all")).split(",")]
    if "alertmanager" not in targets:
        problems.append(f"{cfg_rel} target {','.join(targets)} does not run the Alertmanager (`all` excludes it): "
                        "use target: all,alertmanager")
    am = cfg.get("alertmanager") or {}
    external = str(am.get("external_url") or "")
    url = str(dig(cfg, ("ruler", "alertmanager_url")) or "")
    port = dig(cfg, ("server", "http_listen_port")) or 8080
    path = re.sub(r"^https?://[^/]+", "", external).rstrip("/") or "/alertmanager"
    want = f"http://localhost:{port}{path}"
    if url != want:
        problems.append(f"{cfg_rel} ruler.alertmanager_url is {url or 'unset'!r}: the ruler must send to this task's own "
                        f"Alertmanager, {want} (never through the ALB)")
    if am.get("enable_api") is not False:
        problems.append(f"{cfg_rel} alertmanager.enable_api is not false: configs come from the image only, no upload API")
    store, directory = _local_store(cfg, "alertmanager_storage", "path")
    if store.get("backend") != "local" or not directory:
        problems.append(f"{cfg_rel} alertmanager_storage is {store!r}: the image's tenant config needs backend local "
                        "with local.path")
    df_rel, df = _mimir_dockerfile(infra)
    if not re.search(r"(?m)^ARG PAGE_TOPIC_ARN\s*$", df):
        problems.append(f"{df_rel}: no `ARG PAGE_TOPIC_ARN`, so the Alertmanager config names no topic")
    body = _heredoc_copies(df).get(f"{directory}/${{TENANT}}.yaml")
    if body is None:
        problems.append(f"{df_rel}: no `COPY <<EOF {directory}/${{TENANT}}.yaml`: the tenant has no Alertmanager config "
                        "and its alerts page nobody")
    else:
        am_cfg = parse_yaml(body) or {}
        receivers = {r.get("name"): r for r in am_cfg.get("receivers") or []}
        route = am_cfg.get("route") or {}
        for name in {route.get("receiver"), *(r.get("receiver") for r in route.get("routes") or [])}:
            topics = [c.get("topic_arn") for c in (receivers.get(name) or {}).get("sns_configs") or []]
            if topics != ["${PAGE_TOPIC_ARN}"]:
                problems.append(f"{df_rel}: Alertmanager receiver {name!r} publishes to {topics or 'no SNS topic'}; "
                                "every route ends at sns_configs topic_arn ${PAGE_TOPIC_ARN}")
    topic_name = str(next((b.get("name") for t, _, b in blocks(infra.merged(f"{MODULES_DIR}/iam"), "resource")
                           if t == "aws_sns_topic"), "") or "")
    suffix = topic_name.removeprefix("${var.name}")
    if not topic_name.startswith("${var.name}-") or "$" in suffix:
        problems.append(f"modules/iam aws_sns_topic is named {topic_name or 'nothing'!r}; it must be ${{var.name}}-<fixed> "
                        "so deploy-ecs.yaml can compose its ARN")
    wf = parse_yaml(infra.workflows().get("deploy-ecs.yaml") or "") or {}
    for job, step in _build_steps(wf):
        arg = _build_arg(step, "PAGE_TOPIC_ARN")
        ref = re.fullmatch(r"\$\{\{\s*steps\.([\w-]+)\.outputs\.([\w-]+)\s*\}\}", str(arg or ""))
        steps = [x for x in dig(wf, ("jobs", job, "steps")) or [] if ref and x.get("id") == ref.group(1)]
        text = " ".join(f"{x.get('run', '')} {' '.join(map(str, (x.get('env') or {}).values()))}" for x in steps)
        composed = ("arn:aws:sns:" in text and "${REGISTRY%%.*}" in text
                    and f"needs.prepare.outputs.project }}}}-${{{{ needs.prepare.outputs.environment }}}}{suffix}" in text)
        if not ref or not composed:
            problems.append(f"deploy-ecs.yaml job {job}: build-arg PAGE_TOPIC_ARN={arg or '(none)'} is not a step output "
                            f"composing arn:aws:sns:<region>:<account>:<project>-<environment>{suffix} (modules/iam's "
                            "topic): the Mimir image would page no topic, or the wrong one")
    return problems
