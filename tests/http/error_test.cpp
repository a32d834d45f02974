// SPDX-License-Identifier: Apache-2.0
// Errors that name their field, and the one mapping of errors to HTTP.
#include "postern/error.hpp"
#include "postern/http/responses.hpp"

#include <caf/sec.hpp>

#include <gtest/gtest.h>

using namespace postern;
using namespace postern::http;

TEST(error_field, names_the_field_without_changing_the_sentence) {
  auto err = make_field_error(ec::invalid_argument, "imap_host",
                              "IMAP server: enter a host name");
  EXPECT_EQ(err, ec::invalid_argument);
  EXPECT_EQ(error_field(err), "imap_host");
  EXPECT_EQ(describe(err), "IMAP server: enter a host name");
  EXPECT_EQ(render(err), "invalid_argument: [imap_host] IMAP server: enter a "
                         "host name");
  // Errors made the usual way name no field, whatever their words.
  auto plain = caf::make_error(ec::invalid_argument, "imap_host");
  EXPECT_EQ(error_field(plain), "");
  EXPECT_EQ(describe(plain), "imap_host");
  EXPECT_EQ(error_field(caf::make_error(caf::sec::request_timeout)), "");
  EXPECT_EQ(error_field(caf::error{}), "");
}

TEST(to_status, maps_every_kind_of_error_once) {
  EXPECT_EQ(to_status(make_field_error(ec::invalid_argument, "label", "x")),
            bhttp::status::bad_request);
  EXPECT_EQ(to_status(caf::make_error(ec::invalid_grant)),
            bhttp::status::bad_request);
  EXPECT_EQ(to_status(caf::make_error(ec::invalid_token)),
            bhttp::status::unauthorized);
  EXPECT_EQ(to_status(caf::make_error(ec::forbidden)),
            bhttp::status::forbidden);
  EXPECT_EQ(to_status(caf::make_error(ec::no_such_account)),
            bhttp::status::not_found);
  EXPECT_EQ(to_status(caf::make_error(ec::already_exists)),
            bhttp::status::conflict);
  EXPECT_EQ(to_status(caf::make_error(ec::too_busy)),
            bhttp::status::too_many_requests);
  EXPECT_EQ(to_status(caf::make_error(ec::shutting_down)),
            bhttp::status::service_unavailable);
  EXPECT_EQ(to_status(caf::make_error(caf::sec::request_timeout)),
            bhttp::status::service_unavailable);
  EXPECT_EQ(to_status(caf::make_error(ec::storage_failure)),
            bhttp::status::internal_server_error);
  EXPECT_EQ(to_status(caf::make_error(caf::sec::unexpected_message)),
            bhttp::status::internal_server_error);
}

TEST(error_response, shows_the_callers_sentence_and_hides_the_servers) {
  auto mine = error_response(
    caf::make_error(ec::forbidden, "sign-up is closed on this server"));
  EXPECT_EQ(mine.result(), bhttp::status::forbidden);
  EXPECT_NE(mine.body().find("\"error\":\"forbidden\""), std::string::npos);
  EXPECT_NE(mine.body().find("sign-up is closed"), std::string::npos);
  auto theirs = error_response(
    caf::make_error(ec::storage_failure, "MDB_MAP_FULL at /var/lib/x"));
  EXPECT_EQ(theirs.result(), bhttp::status::internal_server_error);
  EXPECT_EQ(theirs.body().find("MDB_MAP_FULL"), std::string::npos);
  EXPECT_NE(theirs.body().find("server_error"), std::string::npos);
}
