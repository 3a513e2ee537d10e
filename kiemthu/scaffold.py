"""`kiemthu init`: write a commented target file for a new system under test."""

from __future__ import annotations

from pathlib import Path

TEMPLATE = """\
# Target file: the system under test (hệ thống cần kiểm thử). Validated before anything runs.
# Secrets are never written here: give the NAME of an environment variable as {env: NAME}.
version: 1
system:
  name: "Hệ thống thông tin giải quyết TTHC <tên cơ quan>"
  base_url: "https://motcua.example.gov.vn"     # the system's public address
  agency_code: "000.00.00.G15"                  # mã định danh cơ quan (TT 10/2016/TT-BTTTT)
  agency_name: "<tên cơ quan>"
  health_path: /                                # answered with 2xx when the system is up
portal:
  mode: mock                                    # mock: kiemthu starts the mock portal at base_url
  base_url: "http://127.0.0.1:8800"             # your system must be configured with this portal address
  profile: dvcqg-1.0
  sso_client:                                   # what you registered for single sign-on
    client_id: "<client_id>"
    client_secret: {env: KIEMTHU_SSO_CLIENT_SECRET}
    redirect_uris: ["https://motcua.example.gov.vn/sso/callback"]
    post_logout_redirect_uris: ["https://motcua.example.gov.vn/"]
  payment_partner:                              # payment platform partner (MaDoiTac)
    code: "<MaDoiTac>"
    secret: {env: KIEMTHU_PAYMENT_SECRET}
    return_url: "https://motcua.example.gov.vn/thanh-toan/ket-qua"
    callback_url: "https://motcua.example.gov.vn/thanh-toan/ipn"
  adapter_account:                              # dossier sync account (dstcode = agency code)
    username: "<username>"
    password: {env: KIEMTHU_ADAPTER_PASSWORD}
    dstcode: "000.00.00.G15"
services:                                       # one scenario file per service (see scenarios/)
  - scenario: lltp-cap-phieu.yaml
officer:
  mode: manual                                  # manual: the suite waits for a person in your back office
  manual_deadline_s: 900
report:
  tester: "<họ tên người kiểm thử>"
  publication_date: "2026-11-20"                # ngày VPCP công khai dịch vụ để kiểm thử
# adapter: how to drive your pages — copy examples/ministry/target.yaml's adapter section and adapt the labels.
"""


def write_target_template(path: Path) -> None:
    path.write_text(TEMPLATE, encoding="utf-8")
