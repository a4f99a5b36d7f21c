// The first proxy is down; browsers then try the second, and only then go direct.
function FindProxyForURL(url, host) {
    return "PROXY dead.proxy.test:3128; PROXY live.proxy.test:3128; DIRECT";
}
