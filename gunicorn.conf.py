"""gunicorn settings, from the same environment variables as the app."""

import os

bind = f"0.0.0.0:{os.environ.get('CIVICLINE_PORT', '8000')}"
workers = int(os.environ.get("CIVICLINE_WORKERS", "2"))
timeout = 30
graceful_timeout = 20
accesslog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'
