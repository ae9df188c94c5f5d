"""The generated nats-server configuration keeps JetStream's settings in one block.

nats-server keeps only the last of two `jetstream` blocks, so the hub's domain (for MAC Express
sites) written in a block of its own silently turned off encryption at rest.
"""

from pathlib import Path

from schemas.sites import HUB_DOMAIN
from services.stack.nats_config import Leafnodes, render
from services.stack.store_encryption import ensure_store_key


def jetstream_block(text: str) -> str:
    assert text.count("jetstream {") == 1, text
    start = text.index("jetstream {")
    return text[start : text.index("\n}", start)]


def test_the_hub_domain_and_the_store_key_share_one_jetstream_block(tmp_path: Path) -> None:
    key = ensure_store_key(tmp_path)
    text = render([], leafnodes=Leafnodes("127.0.0.1", 7422, HUB_DOMAIN, None), store_key=key)

    block = jetstream_block(text)
    assert f'domain: "{HUB_DOMAIN}"' in block
    assert f'include "{key.name}"' in block
    fragment = key.read_text()
    assert "cipher: chachapoly" in fragment
    assert "{" not in fragment  # a bare fragment: a block of its own would replace the domain


def test_no_jetstream_block_without_a_domain_or_a_key() -> None:
    assert "jetstream" not in render([])
