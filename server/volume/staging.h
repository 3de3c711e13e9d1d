// A volume's staging directory (".mkv/staging/"), where overwrites stage their bodies before
// moving them onto their keys: listing the files in it. serve deletes the ones no unfinished
// overwrite names at start-up (api/overwrite.cpp); gc deletes the ones older than its grace
// period (jobs/gc_job.cpp).
#pragma once

#include "client.h"

#include "mkv/autoindex.h"

#include <string>
#include <vector>

namespace mkv {

// What a volume's staging directory holds, and the volume's clock when it said so.
struct StagingListing {
  std::vector<ListingEntry> files;  // its regular files (each name a staging token)
  std::string date;                 // the Date field of the listing's answer ("" without one)
};

// Lists the staging directory of volume; a volume without one (404) holds no files. Fails when
// the volume cannot be read or does not answer with a JSON listing.
net::awaitable<Result<StagingListing>> list_staging(VolumePool& volume);

}  // namespace mkv
