"""The simulator's own stand-in for DingTalk's JSAPI script (``dingtalk.open.js``), served at
``/_sim/jsapi/dingtalk.open.js`` by ``handlers/jsapi.py``."""
