#include "audio/audio.h"

#include <sndfile.h>

const char *audio_version(void) { return sf_version_string(); }
