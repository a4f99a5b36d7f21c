// A PAC file that returns a number instead of a proxy list.
function FindProxyForURL(url, host) {
    return 8080;
}
