// SPDX-License-Identifier: Apache-2.0
#pragma once

// Internal: RAII for libetpan IMAP objects and conversions from libetpan's
// structures to Postern's value types.

#include "postern/imap/types.hpp"
#include "postern/mime/structure.hpp"

#include <libetpan/libetpan.h>

#include <memory>
#include <string>
#include <vector>

namespace postern::imap::detail {

template <class T, void (*Free)(T*)>
struct etpan_deleter {
  void operator()(T* x) const noexcept {
    if (x != nullptr)
      Free(x);
  }
};

template <class T, void (*Free)(T*)>
using etpan_ptr = std::unique_ptr<T, etpan_deleter<T, Free>>;

using set_ptr = etpan_ptr<mailimap_set, mailimap_set_free>;
using fetch_type_ptr = etpan_ptr<mailimap_fetch_type, mailimap_fetch_type_free>;
using fetch_list_ptr = etpan_ptr<clist, mailimap_fetch_list_free>;
using search_key_ptr = etpan_ptr<mailimap_search_key, mailimap_search_key_free>;
using search_result_ptr = etpan_ptr<clist, mailimap_search_result_free>;
using list_result_ptr = etpan_ptr<clist, mailimap_list_result_free>;
using status_ptr
  = etpan_ptr<mailimap_mailbox_data_status, mailimap_mailbox_data_status_free>;
using status_att_ptr
  = etpan_ptr<mailimap_status_att_list, mailimap_status_att_list_free>;
using flag_list_ptr = etpan_ptr<mailimap_flag_list, mailimap_flag_list_free>;
using store_att_ptr
  = etpan_ptr<mailimap_store_att_flags, mailimap_store_att_flags_free>;

/// Iterates a clist as a range of T*.
template <class T>
struct clist_range {
  clist* list;

  struct iterator {
    clistiter* it;
    T* operator*() const {
      return static_cast<T*>(clist_content(it));
    }
    iterator& operator++() {
      it = clist_next(it);
      return *this;
    }
    bool operator!=(const iterator& other) const {
      return it != other.it;
    }
  };

  iterator begin() const {
    return {list == nullptr ? nullptr : clist_begin(list)};
  }
  iterator end() const {
    return {nullptr};
  }
};

template <class T>
clist_range<T> items(clist* list) {
  return {list};
}

/// Valid UTF-8 copy of a possibly-null C string.
std::string str(const char* text);

/// Addresses of an envelope field (group markers skipped, names decoded).
std::vector<address> convert_addresses(clist* list);

/// "Name <addr>, ..." for headings.
std::string format_addresses(const std::vector<address>& list);

/// The message's MIME tree from BODYSTRUCTURE, with IMAP section numbers:
/// at most `max_parts` parts (the first ones, depth first), 32 levels deep.
mime::part convert_body(const mailimap_body* body, uint64_t max_parts = 1000);

/// Flags of a FETCH response as IMAP strings ("\\Seen", "$Junk").
std::vector<std::string> convert_flags(const mailimap_msg_att_dynamic* dyn);

/// IMAP date-time (INTERNALDATE) as ISO 8601 UTC.
std::string convert_date_time(const mailimap_date_time* dt);

/// The Message-IDs in a References header block ("References: <a> <b>").
std::vector<std::string> parse_references(std::string_view header);

/// The IMAP section ("1.2") a FETCH body section answers, empty for
/// non-part sections such as HEADER.FIELDS.
std::string section_of(const mailimap_section* section);

/// A BODY.PEEK[section]<offset.length> fetch attribute (with length 0:
/// BODY.PEEK[section], all of it; only for tests of the old behaviour).
mailimap_fetch_att* body_peek(const std::string& section, uint64_t offset,
                              uint64_t length);

/// BODY.PEEK[HEADER.FIELDS (REFERENCES)].
mailimap_fetch_att* references_peek();

/// A search key without argument (UNSEEN, FLAGGED, ...).
mailimap_search_key* flag_key(int type);

/// A UID set of single UIDs (never pass UID 0: libetpan sends it as "*").
set_ptr uid_set(const std::vector<uint32_t>& uids);

/// The UIDs of a set, ranges expanded, in the order given.
std::vector<uint32_t> set_uids(const mailimap_set* set);

/// The error for a UID that is not in a folder.
caf::error no_such_message(uint32_t uid, const std::string& folder);

/// Capabilities from a CAPABILITY response.
capabilities convert_capabilities(const mailimap_capability_data* data);

} // namespace postern::imap::detail
