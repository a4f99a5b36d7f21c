package com.example.defender.net

import okhttp3.CertificatePinner
import okhttp3.OkHttpClient

// Pins of the Defender for Endpoint cloud endpoints (anchors from pins/mde.toml).
private const val DIGICERT_G2 = "sha256/i7WTqTvh0OioIruIfFR4kMPnBqrS2rdiVPl/s2uC/CY=" // DigiCert Global Root G2
private const val MICROSOFT_RSA_2017 = "sha256/svcpi1K/LDysTd/nLeTWgqxYlXWVmC8rYjAa9ZfGmcU=" // Microsoft RSA Root Certificate Authority 2017

fun pinnedClient(): OkHttpClient {
    val certificatePinner = CertificatePinner.Builder()
        .add("*.cp.wd.microsoft.com", DIGICERT_G2)
        .add("*.cp.wd.microsoft.com", MICROSOFT_RSA_2017)
        .add(
            "**.events.data.microsoft.com",
            DIGICERT_G2,
            "sha256/uUwZgwDOxcBXrQcntwu+kYFpkiVkOaezL0WYEZ3anJc=", // DigiCert Global Root G3
        )
        .build()
    return OkHttpClient.Builder()
        .certificatePinner(certificatePinner)
        .build()
}
