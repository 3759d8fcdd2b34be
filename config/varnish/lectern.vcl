vcl 4.1;
# Varnish in front of Lectern (see README, "Behind a CDN").
#   varnishd -a :6081 -f /path/to/lectern.vcl -s malloc,1g
# Lectern: LECTERN_CACHE_PURGE_URL=http://127.0.0.1:6081 and
#          LECTERN_TRUSTED_PROXIES=127.0.0.1 (Varnish adds X-Forwarded-For).
import std;

backend lectern {
    .host = "127.0.0.1";
    .port = "8080";
    .probe = {
        .url = "/health";
        .interval = 5s;
        .timeout = 2s;
        .window = 5;
        .threshold = 3;
    }
}

# Who may purge: Lectern itself (its workers run here).
acl purgers {
    "127.0.0.1";
    "::1";
}

sub vcl_recv {
    if (req.method == "PURGE") {
        if (client.ip !~ purgers) {
            return (synth(405, "Purging is not allowed from " + client.ip));
        }
        # Purges every variant (HTML and ActivityPub) of the URL.
        return (purge);
    }
    # The desk and sign-in are personal: never cached, cookies kept.
    if (req.url ~ "^/admin") {
        return (pass);
    }
    # Public pages are the same for everyone: cookies play no part.
    unset req.http.Cookie;
    # One URL serves HTML to browsers and ActivityPub JSON to servers: two
    # variants, whatever the exact Accept header says.
    if (req.http.Accept ~ "^\s*(text/html|application/xhtml\+xml)") {
        set req.http.Accept = "text/html";
    } else {
        set req.http.Accept = "application/activity+json";
    }
    # Lectern compresses (brotli or gzip); keep the two encodings apart.
    if (req.http.Accept-Encoding ~ "\bbr\b") {
        set req.http.Accept-Encoding = "br";
    } elsif (req.http.Accept-Encoding ~ "\bgzip\b") {
        set req.http.Accept-Encoding = "gzip";
    } else {
        unset req.http.Accept-Encoding;
    }
    # While Lectern answers, serve at most stale-while-revalidate late (the
    # object's grace); while it does not, up to stale-if-error (below).
    if (std.healthy(req.backend_hint)) {
        set req.grace = 60s;
    }
}

sub vcl_backend_response {
    # s-maxage sets the TTL (Varnish reads it); keep objects a day past it so
    # that pages keep being served when Lectern is down (stale-if-error).
    set beresp.grace = 1d;
    # Lectern compressed it already.
    set beresp.do_gzip = false;
}
