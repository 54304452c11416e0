"""The effective settings and where each comes from (``hlrebal config show``), secrets redacted."""

from __future__ import annotations

from typing import Any

from rich.console import RenderableType

from hlrebal.render.layout import Cell, Column, table


def settings_json(resolved: Any, *, private_key_set: bool) -> dict[str, Any]:
    """Effective settings with their sources; secrets are never included, only whether they are set."""
    settings = resolved.settings.model_dump(mode="json")
    policy = resolved.policy.model_dump(mode="json")
    execution = resolved.execution.model_dump(mode="json")
    sources = resolved.sources
    return {
        "version": 1,
        "kind": "settings",
        "config_file": str(resolved.config_path) if resolved.config_path else None,
        "profile": resolved.profile,
        "endpoint": {"url": resolved.base_url, "network": resolved.network_label},
        "settings": {k: {"value": v, "source": sources.get(k, "default")} for k, v in settings.items()},
        "private_key": {
            "value": "(set, redacted)" if private_key_set else None,
            "source": "env HLREBAL_PRIVATE_KEY" if private_key_set else "unset",
        },
        "policy": {k: {"value": v, "source": sources.get(f"policy.{k}", "default")} for k, v in policy.items()},
        "execution": {
            k: {"value": v, "source": sources.get(f"execution.{k}", "default")} for k, v in execution.items()
        },
    }


def settings_renderable(doc: dict[str, Any]) -> RenderableType:
    """The settings document of :func:`settings_json` as one table (cards when narrow)."""
    rows: list[list[Cell]] = [["endpoint", f"{doc['endpoint']['url']} ({doc['endpoint']['network']})", ""]]
    for key, item in doc["settings"].items():
        rows.append([key, "-" if item["value"] is None else str(item["value"]), item["source"]])
    rows.append(["private key", doc["private_key"]["value"] or "-", doc["private_key"]["source"]])
    for key, item in doc["policy"].items():
        rows.append([f"policy.{key}", "-" if item["value"] is None else str(item["value"]), item["source"]])
    for key, item in doc.get("execution", {}).items():
        rows.append([f"execution.{key}", "-" if item["value"] is None else str(item["value"]), item["source"]])
    columns = (Column("setting", card_label=""), Column("value", wrap=True, card_label=""), Column("source", wrap=True))
    title = f"Effective settings (file {doc['config_file']}, profile {doc['profile'] or '-'})"
    return table(columns, rows, title=title)
