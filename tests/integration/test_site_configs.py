"""The configurations written for the hub and for a site are accepted by the real nats-server."""

import subprocess
from pathlib import Path

from schemas.entities import ENTITIES
from services.credentials import DEMO_CHANNELS
from services.sites.bundle import write_bundle
from services.sites.hub import hub_site_users
from services.sites.site_config import write_site_config
from services.stack.nats_config import Leafnodes, write_nats_config
from services.stack.natsd import nats_server_binary


def config_test(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(nats_server_binary()), "-c", str(config), "-t"], capture_output=True, text=True
    )


def test_the_hub_and_site_configs_pass_the_servers_own_check(tmp_path: Path) -> None:
    bundle = write_bundle(tmp_path, "pias-napo", tokens_file=tmp_path / "tokens.json")
    hub = write_nats_config(
        tmp_path / "nats",
        ENTITIES,
        None,
        DEMO_CHANNELS,
        leafnodes=Leafnodes("127.0.0.1", 7422, "hub"),
        extra_users=hub_site_users(tmp_path / "nats" / "users", [bundle]),
        sites=["pias-napo"],
    )
    site = write_site_config(bundle, "nats-leaf://127.0.0.1:7422", tmp_path / "site")
    for config in (hub.config_file, site):
        checked = config_test(config)
        assert checked.returncode == 0, checked.stdout + checked.stderr
