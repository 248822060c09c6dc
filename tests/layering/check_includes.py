#!/usr/bin/env python3
"""Checks every #include "folder/..." of crius' own code against the arrow
lines of the README's layout section, so that a backwards include cannot land
silently.

The README states the layers in two lines, lowest first:
    `base ◀── conf ◀── image, cni, oci ◀── sandbox ◀── container ◀── server ◀── cmd`
    inside oci/: `cgroups ◀── runtime ◀── monitor`, with `cri` on `runtime`
    inside image/: `image ◀── image/pull` (the store below the pulling)
and api/ (the generated CRI proto) is a leaf any layer from oci/cri up may use.
A file may include its own folder and folders on lower layers; folders on the
same layer (image, cni, oci) may not include each other.
Usage: check_includes.py <source root>"""
import os
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else '.'
readme = open(os.path.join(root, 'README.md'), encoding='utf-8').read()


def arrow_layers(prefix):
    m = re.search(r'`(' + prefix + r' ◀──[^`]*)`', readme)
    if not m:
        sys.exit(f'README.md has no arrow line starting with "{prefix} ◀──"')
    return [[f.strip() for f in layer.split(',')] for layer in m.group(1).split('◀──')]


top = arrow_layers('base')
oci = arrow_layers('cgroups')
rank = {}
for i, layer in enumerate(top):
    for f in layer:
        rank[f] = (i, 0)
oci_rank = {}
for i, layer in enumerate(oci):
    for f in layer:
        oci_rank[f] = i
# oci/cri builds on runtime's spec model: one step above runtime, beside monitor.
oci_rank['cri'] = oci_rank['runtime'] + 1


def unit(path):
    """The layer unit a path belongs to: 'conf', 'oci/runtime', 'api'…"""
    parts = path.split('/')
    if parts[0] == 'oci' and len(parts) > 2:
        return 'oci/' + parts[1]
    if parts[0] == 'image' and len(parts) > 2 and parts[1] == 'pull':
        return 'image/pull'
    return parts[0]


def allowed(src, dst):
    if src == dst:
        return True
    s_top, d_top = src.split('/')[0], dst.split('/')[0]
    if s_top not in rank:
        return False
    if dst == 'api':
        # The generated proto: oci/cri's input types, and what every layer above oci/ serves.
        return src == 'oci/cri' or rank[s_top][0] > rank['oci'][0]
    if d_top not in rank:
        return False
    if s_top == d_top == 'image':
        return src == 'image/pull'  # pull builds on the store, never the other way
    if s_top == d_top == 'oci':
        s, d = src.split('/')[1], dst.split('/')[1]
        return s in oci_rank and d in oci_rank and oci_rank[d] < oci_rank[s]
    return rank[d_top][0] < rank[s_top][0]


include = re.compile(r'^\s*#\s*include\s+"([a-z_]+/[^"]+)"')
bad = []
checked = 0
for top_dir in list(rank) + ['api']:
    base = os.path.join(root, top_dir)
    for dirpath, _, files in os.walk(base):
        for name in files:
            if not name.endswith(('.h', '.cpp')):
                continue
            path = os.path.relpath(os.path.join(dirpath, name), root)
            src = unit(path)
            for n, line in enumerate(open(os.path.join(root, path), encoding='utf-8'), 1):
                m = include.match(line)
                if not m:
                    continue
                checked += 1
                dst = unit(m.group(1))
                if not allowed(src, dst):
                    bad.append(f'{path}:{n}: {src} includes {m.group(1)} ({dst} is not below it)')
if bad:
    print('\n'.join(bad))
    sys.exit(f'{len(bad)} include(s) against the arrow lines in README.md')
print(f'{checked} includes follow the arrow lines')
