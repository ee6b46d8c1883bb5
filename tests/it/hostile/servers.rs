//! Hostile clients against `tokenpace sim` and `tokenpace serve`: slow headers, smuggled requests, unauthenticated use; and hostile traces against the client.
