#!/bin/sh
# Downloads the Debian packages diffstudio builds against into .gpu-debs/ (ignored by git),
# for a GPU machine that has CUDA but not these libraries and no network (tests/gpu/run.sh
# unpacks them there with dpkg -x). Run it on a Debian/Ubuntu machine with apt, from the repo
# root; about 17 MB. Name .gpu-debs in the device run's carry list.
set -eu
mkdir -p .gpu-debs
cd .gpu-debs
apt-get download \
    pkgconf pkgconf-bin libpkgconf3 \
    libcjson-dev libcjson1 \
    libncurses-dev libncurses6 libncursesw6 libtinfo6 \
    portaudio19-dev libportaudio2 libportaudiocpp0 libasound2 libjack-jackd2-0 \
    libsndfile1-dev libsndfile1 libflac12 libvorbis0a libvorbisenc2 libopus0 libogg0 libmpg123-0 libmp3lame0 \
    libsamplerate0-dev libsamplerate0 \
    libopenblas-dev libopenblas0 libopenblas0-pthread libopenblas-pthread-dev libgfortran5 libquadmath0
ls | wc -l
