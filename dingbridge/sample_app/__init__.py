"""示例应用 / the sample app: an OpenID Connect relying party of a space, for the demo and the
tests. It is what a company's own app does to receive the signed-in employee: authlib's
Starlette client signs in with the authorization code flow and PKCE, shows the claims it got,
signs out through the space's end-session endpoint, and honours back-channel logout.

It is a third-party client on purpose: it knows dingbridge only by its issuer URL.
"""

from dingbridge.sample_app.app import SampleAppConfig, create_sample_app

__all__ = ["SampleAppConfig", "create_sample_app"]
