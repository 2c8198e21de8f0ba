# postbox serve in a container: the native SQS-compatible queue engine on
# port 9324, its queues and messages durable in the volume /data.
#
# The image holds nothing but the postbox binary, built beforehand (there
# is no Go toolchain in the image; a static binary needs nothing else),
# and the empty folder /data:
#
#   CGO_ENABLED=0 go build -trimpath -o postbox ./cmd/postbox
#   docker build -t postbox .                 # or: podman build -t postbox .
#
# It listens on 0.0.0.0:9324 inside the container, where postbox serve
# refuses to run without credentials unless told otherwise. Give it
# credentials (every request must then be signed with AWS Signature
# Version 4 by one of them):
#
#   docker run -p 9324:9324 -v postbox-data:/data \
#     -e POSTBOX_ACCESS_KEY_ID=AKIDEXAMPLE -e POSTBOX_SECRET_ACCESS_KEY=... postbox
#
# or a credentials file ({"credentials": [{"accessKeyId": ..., "secretAccessKey": ...,
# "accountId": ...}]}, mounted read-only, with --credentials-file PATH), or,
# for a machine of your own, allow anonymous access and publish the port on
# loopback only:
#
#   docker run -p 127.0.0.1:9324:9324 postbox --allow-anonymous
#
# Arguments after the image name are more flags of postbox serve
# (postbox serve --help). See docs/server.md, "In a container".
FROM scratch
COPY postbox /postbox
# /data belongs to the unprivileged user the server runs as, so that a
# volume mounted there starts out writable by it. (.docker/data is an empty
# folder in the build context; a scratch image has no mkdir to run.)
COPY --chown=65532:65532 .docker/data /data
# The user by number: a scratch image has no /etc/passwd.
USER 65532:65532
VOLUME ["/data"]
EXPOSE 9324
ENTRYPOINT ["/postbox", "serve", "--addr", "0.0.0.0:9324", "--data-dir", "/data"]
