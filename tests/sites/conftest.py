"""One hub for the module, with every site of its tests registered before it starts."""

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from harness.up import ventanilla_up

from .harness import Hub, register_sites

SITES = [
    "tambo-estrecho",
    "pias-putumayo",
    "pias-morona",
    "pias-ucayali",
    "tambo-yavari",
    "pias-tigre",
    "pias-maranon",
]


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    root = tmp_path_factory.mktemp("hub")
    register_sites(root / "var", SITES)
    with ventanilla_up(root) as up:
        assert up.credentials.leafnode_url is not None
        port = urlsplit(up.credentials.leafnode_url).port
        assert port is not None
        yield Hub(up, port)
