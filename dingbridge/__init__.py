"""dingbridge: DingTalk (钉钉) sign-in for web app spaces.

Parts (see docs/): the server (``dingbridge.web``), the DingTalk API forwarder
(``dingbridge.forwarder``), the DingTalk client (``dingbridge.dingtalk``) and the DingTalk
simulator (``dingbridge.sim``).
"""

__version__ = "0.1.0"
