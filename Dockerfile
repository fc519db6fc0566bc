# kycdesk as a container: a cgo build (mattn/go-sqlite3) on the Go image, run on slim Debian
# of the same release (same glibc) as an unprivileged user, with the data on a volume.
#
#   docker build --build-arg VERSION=1.4.0 --build-arg COMMIT=$(git rev-parse HEAD) -t kycdesk .
#   docker run -d -p 8080:8080 -v kycdesk-data:/data -e KYCDESK_PUBLIC_URL=https://kyc.example.com kycdesk
#
# Cookies are Secure: put a TLS proxy in front (and --trusted-proxy / KYCDESK_TRUSTED_PROXY),
# or set KYCDESK_INSECURE_COOKIES=true for a plain-HTTP trial only.

ARG GO_VERSION=1.26.8
ARG DEBIAN_RELEASE=trixie

FROM golang:${GO_VERSION}-${DEBIAN_RELEASE} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=devel
ARG COMMIT=unknown
RUN CGO_ENABLED=1 go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" \
      -o /out/kycdesk ./cmd/kycdesk \
 && /out/kycdesk version

FROM debian:${DEBIAN_RELEASE}-slim
# curl only for HEALTHCHECK; ca-certificates for the provider APIs the worker calls.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 kycdesk \
 && useradd --system --uid 10001 --gid kycdesk --home-dir /data --shell /usr/sbin/nologin kycdesk \
 && mkdir -p /data && chown kycdesk:kycdesk /data && chmod 0700 /data
COPY --from=build /out/kycdesk /usr/local/bin/kycdesk

# The SQLite file and the master key (unless KYCDESK_MASTER_KEY is given): keep the volume.
VOLUME ["/data"]
ENV KYCDESK_ADDR=0.0.0.0:8080 \
    KYCDESK_DATA=/data
EXPOSE 8080
USER kycdesk:kycdesk
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD curl -fsS -o /dev/null http://127.0.0.1:8080/healthz || exit 1
# serve finishes in-flight requests and exits within 10 s of SIGTERM (docker stop waits 10 s).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/kycdesk"]
CMD ["serve", "--addr", "0.0.0.0:8080", "--data", "/data"]
