#!/usr/bin/env bash
# After ../shared/tools/gpu-carry.sh (which makes .gpu/node.xz and .gpu/debs; its production node_modules step
# finds nothing to install in this project, which has no runtime dependencies): packs the webgpu peer dependency
# (linux-x64 only, ~5 MB) and writes .gpu/env.sh, which each command on the GPU machine sources first.
# Then: carry .gpu and dist, and run e.g. `source .gpu/env.sh && bash bench/gpu-run3.sh` there.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
[ -s .gpu/node.xz ] && [ -s .gpu/debs/libvulkan1.deb ] || { echo "run ../shared/tools/gpu-carry.sh first" >&2; exit 1; }
tar -cf - node_modules/webgpu/package.json node_modules/webgpu/index.js node_modules/webgpu/types.d.ts \
  node_modules/webgpu/dist/linux-x64 | xz -T2 -6 > .gpu/webgpu.tar.xz
cat > .gpu/env.sh <<'ENV'
# Source first in each command on the GPU machine: node, the Vulkan loader and node_modules/webgpu.
for d in .gpu/debs/*.deb; do dpkg -x "$d" /; done; ldconfig
mkdir -p /tmp/nodebin && xz -dc .gpu/node.xz > /tmp/nodebin/node && chmod +x /tmp/nodebin/node
export PATH=/tmp/nodebin:$PATH
[ -f node_modules/webgpu/dist/linux-x64/dawn.node ] || xz -dc .gpu/webgpu.tar.xz | tar -xf -
export XDG_RUNTIME_DIR=/tmp
ENV
du -sh .gpu
