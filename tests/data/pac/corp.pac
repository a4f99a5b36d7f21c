// A corporate PAC file in the usual shape: local names and private networks direct, the
// Defender cloud through the inspection-exempt proxy, everything else through the main proxy
// with the backup after it.
function FindProxyForURL(url, host) {
    host = host.toLowerCase();

    if (isPlainHostName(host) ||
        dnsDomainIs(host, ".corp.example") ||
        localHostOrDomainIs(host, "intranet.corp.example")) {
        return "DIRECT";
    }

    // literal addresses and names that resolve into the private ranges
    if (isInNet(host, "10.0.0.0", "255.0.0.0") ||
        isInNet(host, "172.16.0.0", "255.240.0.0") ||
        isInNet(host, "192.168.0.0", "255.255.0.0") ||
        isInNet(host, "127.0.0.0", "255.0.0.0")) {
        return "DIRECT";
    }

    if (shExpMatch(host, "*.wd.microsoft.com") ||
        shExpMatch(host, "*.security.microsoft.com")) {
        return "PROXY defender-proxy.corp.example:8080; DIRECT";
    }

    if (shExpMatch(url, "http:*")) {
        return "PROXY proxy1.corp.example:3128";
    }

    return "PROXY proxy1.corp.example:3128; PROXY proxy2.corp.example:3128";
}
