"""`agora portal serve`: the built site plus the self-service pages.

app.py          the Starlette application: middleware order, routes, the site as static files
context.py      what handlers share (settings, sessions, mailer, site directory, OIDC client)
headers.py      security headers on every answer (CSP with the site's inline-script hashes)
csrf.py         one token per session, checked on every POST
accounts.py     session sign-in state: who is signed in, sign in, sign out
mailer.py       Mailer interface: OutboxMailer (development), SmtpMailer (AGORA_SMTP_URL)
verification.py signed, expiring email-verification links
routes_*.py     the pages: sign-up/in, applications and keys, access, usage, agency console, OIDC
errors.py       AgoraError -> HTML page for browsers, problem+json for JSON clients
"""
