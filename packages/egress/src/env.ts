/**
 * The environment that points every common client at the proxy: the conventional variables
 * (both cases), plus npm/yarn, pip, git, cargo and Node's own fetch. `NO_PROXY` lists only the
 * sandbox's own loopback, which reaches nothing outside the sandbox's network namespace.
 */
export function proxyEnvironment(proxy: {
  readonly httpUrl: string;
  readonly socksUrl?: string | null;
}): Record<string, string> {
  const h = proxy.httpUrl;
  const noProxy = 'localhost,127.0.0.1,::1';
  const env: Record<string, string> = {
    HTTP_PROXY: h,
    HTTPS_PROXY: h,
    http_proxy: h,
    https_proxy: h,
    NO_PROXY: noProxy,
    no_proxy: noProxy,
    // npm / pnpm (npm_config_*), yarn berry
    npm_config_proxy: h,
    npm_config_https_proxy: h,
    npm_config_noproxy: noProxy,
    YARN_HTTP_PROXY: h,
    YARN_HTTPS_PROXY: h,
    // pip
    PIP_PROXY: h,
    // git (http.proxy for http(s) remotes; ssh and git:// have no route out)
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: 'http.proxy',
    GIT_CONFIG_VALUE_0: h,
    // cargo
    CARGO_HTTP_PROXY: h,
    // Node >= 24: fetch/http honour HTTP(S)_PROXY when this is set
    NODE_USE_ENV_PROXY: '1',
  };
  // ALL_PROXY is read by curl and others for any scheme; socks5h = the proxy resolves names.
  const all = proxy.socksUrl ?? h;
  env.ALL_PROXY = all;
  env.all_proxy = all;
  return env;
}
