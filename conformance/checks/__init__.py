"""The four mandated checks (QT-VPB-16; draft decision on the portal's rules), one test module each.

| test | check | requirement |
|---|---|---|
| test_1_sso.py | SSO | a citizen logged in on the portal is not asked to log in again; invalid tokens are refused |
| test_2_submission.py | Online submission | fields and documents match the published procedure; the dossier reaches the portal |
| test_3_payment.py | Online payment | continuous payment through the portal's platform; forged callbacks refused |
| test_4_processing.py | Processing and sync | every status and the e-result reach the portal; nothing lost in an outage |

Not tested here: the agency's daily reconciliation and refunds (see loadtest/), bank digital signatures on receipts.
"""
