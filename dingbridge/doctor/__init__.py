"""DingTalk setup checks: ``dingbridge doctor`` and the console's "Test connection".

- :func:`run_checks` (``runner``): the pure checks on a plain :class:`DoctorConfig`.
- :mod:`dingbridge.doctor.space_checks`: load a space's stored settings and run them
  (``check_space``, ``run_connection_checks``).
- :mod:`dingbridge.doctor.report`: text and JSON rendering.

See docs/doctor.md.
"""

from dingbridge.doctor.config import DoctorConfig
from dingbridge.doctor.results import CheckResult, Message, Status
from dingbridge.doctor.runner import CHECK_ORDER, run_checks

__all__ = ["CHECK_ORDER", "CheckResult", "DoctorConfig", "Message", "Status", "run_checks"]
