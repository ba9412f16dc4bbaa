"""Staff logins a security review signs off: a second factor (TOTP with one-time recovery
codes, django-otp) for every staff account on admin, the dashboard and the API, enrolled
on the first login; a superuser reset that is recorded; staff sessions that end when idle
and after a maximum age; a password or role change ends the person's other sessions and
revokes their refresh tokens. The rules: docs/accounts.md ("Staff logins").

Who counts as staff is decided in core.roles (`is_staff_account`); this package only
applies the rule.
"""
