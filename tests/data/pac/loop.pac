// A PAC file that never answers: the loop waits for a condition that never comes true.
function FindProxyForURL(url, host) {
    var tries = 0;
    while (!isResolvable("proxy.never.test") || tries >= 0) {
        tries++;
    }
    return "DIRECT";
}
