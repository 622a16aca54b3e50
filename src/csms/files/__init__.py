"""Files charge points exchange with the CSMS (spec 8): hosted firmware images they download,
diagnostics files they upload (over FTP or HTTP), and the signed links to both.

`host.FileHost` says where files live and how charge points reach them; `ftp` is the diagnostics
FTP server, `http` the link endpoints (no operator token: the signature is the credential), and
`service` starts both with the job timeout sweeper.
"""
