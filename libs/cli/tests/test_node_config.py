"""`kam node` without servers (issue 15): node.yaml errors name the field, a child's credentials are
issued, rotated and revoked at the parent and refused when they are another node's, the dev CA's
certificates verify for the node's addresses, and the nats-server config carries TLS on both ends of
a leafnode link."""

from __future__ import annotations

import ssl
import stat
from pathlib import Path

import pytest
import yaml
from cryptography import x509

from kam_cli.devca import make_ca, make_node_cert
from kam_cli.node import NodeHost
from kam_cli.nodeconfig import NodeConfig, NodeConfigError
from kam_platform.embedded.natsauth import ChildCredentials, CredentialsError

TOPOLOGY = [
    {"code": "hq", "tier": "group", "name": {"zh": "集团", "en": "HQ"}},
    {"code": "gd-gz", "tier": "local", "parent": "gd", "name": {"zh": "广州", "en": "Guangzhou"}},
]
GD = {"code": "gd", "tier": "province", "parent": "hq", "name": {"zh": "广东", "en": "Guangdong"}}


def _config(tmp_path: Path, **overrides: object) -> Path:
    data: dict[str, object] = {
        "node": GD,
        "topology": TOPOLOGY,
        "data_dir": "data",
        "parent": {"url": "tls://10.0.0.1:7422", "credentials": "gd.credentials.json"},
        "nats": {"leafnodes": {"host": "10.0.1.1", "advertise": "10.0.1.1"}},
        "tls": {"ca": "certs/ca.pem", "cert": "certs/gd.pem", "key": "certs/gd-key.pem"},
        **overrides,
    }
    path = tmp_path / "gd.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_config_errors_name_the_field(tmp_path: Path) -> None:
    with pytest.raises(NodeConfigError, match="plain: true"):
        NodeConfig.load(_config(tmp_path, tls=None))
    with pytest.raises(NodeConfigError, match=r"listen\.port"):
        NodeConfig.load(_config(tmp_path, listen={"port": 70000}))
    with pytest.raises(NodeConfigError, match="topology: a topology has exactly one root"):
        NodeConfig.load(_config(tmp_path, topology=TOPOLOGY[1:]))
    with pytest.raises(NodeConfigError, match="parent"):
        NodeConfig.load(_config(tmp_path, parent=None))
    with pytest.raises(NodeConfigError, match="cannot read"):
        NodeConfig.load(tmp_path / "missing.yaml")
    cfg = NodeConfig.load(_config(tmp_path))
    assert cfg.build_topology().subtree("gd") == ["gd", "gd-gz"]
    assert cfg.data_path == tmp_path / "data"


def test_child_credentials_issued_rotated_revoked(tmp_path: Path) -> None:
    host = NodeHost(NodeConfig.load(_config(tmp_path)))
    out = tmp_path / "gd-gz.credentials.json"
    first = host.issue("gd-gz", out)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert first.parent_url == "tls://10.0.1.1:7422"
    loaded = ChildCredentials.load(out, node="gd-gz", parent="gd")
    assert loaded.password == first.password
    assert 'user: "leaf-gd-gz"' in (host.secrets().auth(host.topology, "gd").server_config or "")
    with pytest.raises(CredentialsError, match="not of 'gd-sz'"):
        ChildCredentials.load(out, node="gd-sz", parent="gd")
    second = host.issue("gd-gz", out)  # rotation: the old password no longer counts
    assert second.password != first.password
    assert host.secrets().active_children() == {"gd-gz": second.password}
    assert host.revoke("gd-gz") is True
    assert host.secrets().active_children() == {}
    assert "leaf-gd-gz" not in (host.secrets().auth(host.topology, "gd").server_config or "")
    assert host.revoke("gd-gz") is False
    with pytest.raises(Exception, match="not a child of gd"):
        host.issue("hq", tmp_path / "x.json")


def test_dev_ca_certificates_verify_for_the_nodes_addresses(tmp_path: Path) -> None:
    ca, _ = make_ca(tmp_path)
    cert, key = make_node_cert(tmp_path, "gd", ["10.0.1.1", "gd.kam.example"])
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    parsed = x509.load_pem_x509_certificate(cert.read_bytes())
    san = parsed.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "gd.kam.example" in san.get_values_for_type(x509.DNSName)
    assert [str(a) for a in san.get_values_for_type(x509.IPAddress)] == ["10.0.1.1", "127.0.0.1"]
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)  # the key matches the certificate
    client = ssl.create_default_context(cafile=str(ca))
    assert client.cert_store_stats()["x509_ca"] == 1


def test_nats_config_has_tls_on_listener_and_remote(tmp_path: Path) -> None:
    make_ca(tmp_path / "certs")
    make_node_cert(tmp_path / "certs", "gd", ["10.0.1.1"])
    cfg = NodeConfig.load(_config(tmp_path))
    host = NodeHost(cfg)
    ChildCredentials(node="gd", parent="hq", password="pw", issued_at="now").write(tmp_path / "gd.credentials.json")
    text = host.make_nats().config_text()
    assert 'listen: "10.0.1.1:7422"' in text
    assert text.count("tls {") == 2 and "verify: true" in text
    assert '"tls://leaf-gd:pw@10.0.0.1:7422"' in text
    assert 'listen: "127.0.0.1:' in text  # clients and monitoring stay on loopback
