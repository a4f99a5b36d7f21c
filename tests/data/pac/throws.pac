// A PAC file with a bug: it calls a function that was never defined.
function FindProxyForURL(url, host) {
    if (dnsDomainIs(host, ".corp.example")) {
        return "DIRECT";
    }
    return chooseProxy(host);
}
