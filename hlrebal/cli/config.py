"""``hlrebal config``: the configuration file (``init`` writes a template) and the effective settings
(``show``)."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from hlrebal.cli.common import err_console, guarded, out_console, print_json, resolve_settings
from hlrebal.cli.options import ConfigOpt, JsonOpt, ProfileOpt

config_app = typer.Typer(help="The configuration file and the effective settings.", no_args_is_help=True)


@config_app.command("show")
def config_show(
    json_out: JsonOpt = False,
    config: ConfigOpt = None,
    profile: ProfileOpt = None,
) -> None:
    """Print the effective settings and where each comes from (secrets redacted)."""

    def body() -> None:
        from hlrebal import render

        resolved = resolve_settings(flags={}, targets=None, config=config, profile=profile)
        doc = render.settings_json(resolved, private_key_set=bool(os.environ.get("HLREBAL_PRIVATE_KEY")))
        if json_out:
            print_json(doc)
        else:
            out_console().print(render.settings_renderable(doc))

    guarded(json_out, body)


@config_app.command("init")
def config_init(
    config: ConfigOpt = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented configuration template (mode 0600) to the default path or --config."""

    def body() -> None:
        from hlrebal.config import CONFIG_TEMPLATE, default_config_path
        from hlrebal.errors import ConfigError

        path = (config or default_config_path()).expanduser()
        if path.exists() and not force:
            raise ConfigError(f"{path} already exists", hint="edit it, or pass --force to overwrite it")
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(CONFIG_TEMPLATE)
        os.replace(tmp, path)
        os.chmod(path, 0o600)
        err_console().print(f"wrote {path} (mode 0600)", markup=False)

    guarded(False, body)
