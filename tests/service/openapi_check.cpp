// Tests of tests/service/openapi_check.hpp (the validator the end-to-end OpenAPI test uses) and
// of the service's OpenAPI document itself (examples/service/openapi.json, embedded).
// SPDX-License-Identifier: MIT
#include "openapi_check.hpp"

#include <set>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "openapi_document.hpp"

namespace openapi_check_tests {

using allocation::test::openapi::answer_errors;
using allocation::test::openapi::find_operation;
using allocation::test::openapi::resolve;
using allocation::test::openapi::schema_errors;
using json = nlohmann::json;

namespace {

const json doc = json::parse(allocation::service::openapi_document);

auto errors(const json& schema, const json& value) -> std::vector<std::string> { return schema_errors(doc, schema, value); }

/// Every schema object of the document, wherever it is (components, bodies, parameters,
/// properties, items).
void collect_schemas(const json& j, std::vector<const json*>& out) {
    if (j.is_object()) {
        for (const auto& [key, v] : j.items()) {
            if (key == "schema") out.push_back(&v);
            if (key == "items" && v.is_object()) out.push_back(&v);
            if (key == "schemas" || key == "properties") {
                for (const auto& [name, s] : v.items()) out.push_back(&s);
            }
            collect_schemas(v, out);
        }
    } else if (j.is_array()) {
        for (const auto& v : j) collect_schemas(v, out);
    }
}

void collect_refs(const json& j, std::set<std::string>& out) {
    if (j.is_object()) {
        for (const auto& [key, v] : j.items()) {
            if (key == "$ref" && v.is_string()) out.insert(v.get<std::string>());
            collect_refs(v, out);
        }
    } else if (j.is_array()) {
        for (const auto& v : j) collect_refs(v, out);
    }
}

}  // namespace

TEST_SUITE("service") {

TEST_CASE("a value is checked against type, required, properties, items, enum, nullable and format date") {
    const json product = {{"$ref", "#/components/schemas/Product"}};
    const json good = {{"sku", "LAMP"}, {"version", 2}, {"available", 7},
                       {"batches", {{{"ref", "b1"}, {"eta", nullptr}, {"purchased", 10}, {"allocated", 3}, {"held", 0}, {"available", 7}},
                                    {{"ref", "b2"}, {"eta", "2011-01-02"}, {"purchased", 0}, {"allocated", 0}, {"held", 0}, {"available", 0}}}}};
    CHECK(errors(product, good).empty());

    auto without_sku = good;
    without_sku.erase("sku");
    CHECK(errors(product, without_sku) == std::vector<std::string>{R"($: required property "sku" is missing)"});
    auto bad_eta = good;
    bad_eta["batches"][1]["eta"] = "2011-02-30";
    CHECK(errors(product, bad_eta) == std::vector<std::string>{R"($.batches[1].eta: "2011-02-30" is not a date YYYY-MM-DD)"});
    auto string_qty = good;
    string_qty["batches"][0]["purchased"] = "10";
    CHECK(errors(product, string_qty) == std::vector<std::string>{R"($.batches[0].purchased: "10" is not of type integer)"});
    auto extra = good;
    extra["reserved"] = 0;
    CHECK(errors(product, extra) == std::vector<std::string>{R"($: property "reserved" is not in the schema)"});
    auto null_sku = good;
    null_sku["sku"] = nullptr;
    CHECK(errors(product, null_sku) == std::vector<std::string>{"$.sku: null where the schema does not allow it"});
    CHECK(errors({{"$ref", "#/components/schemas/Health"}}, {{"status", "down"}}) ==
          std::vector<std::string>{R"($.status: "down" is not one of ["ok"])"});
    CHECK(errors({{"$ref", "#/components/schemas/Order"}}, {{"orderid", "o"}, {"lines", json::array()}}) ==
          std::vector<std::string>{"$.lines: fewer items than minItems"});
    CHECK(errors({{"$ref", "#/components/schemas/Quantity"}}, 0) == std::vector<std::string>{"$: 0 is below the minimum 1"});
}

TEST_CASE("a schema keyword the validator does not know is reported, not skipped") {
    CHECK(errors({{"type", "string"}, {"pattern", "^a"}}, "b") == std::vector<std::string>{"$: unsupported schema keyword pattern"});
    CHECK(errors({{"$ref", "#/components/schemas/Nope"}}, 1) ==
          std::vector<std::string>{R"($: unresolved reference "#/components/schemas/Nope")"});
}

TEST_CASE("an operation is found by method and concrete path, path parameters matching one segment") {
    const auto op = find_operation(doc, "GET", "/products/LAMP");
    REQUIRE(op);
    CHECK(op->path_template == "/products/{sku}");
    CHECK_FALSE(find_operation(doc, "POST", "/products/LAMP"));
    CHECK_FALSE(find_operation(doc, "GET", "/products/LAMP/more"));
    CHECK_FALSE(find_operation(doc, "GET", "/products/"));
    CHECK(find_operation(doc, "post", "/allocate"));
}

TEST_CASE("an answer with a status the document does not list is an error") {
    CHECK(answer_errors(doc, "POST", "/allocate", 202, "application/json", R"({"batchref":"b1"})").empty());
    CHECK(answer_errors(doc, "POST", "/allocate", 409, "application/json", R"({"message":"Out of stock for sku S"})").empty());
    CHECK(answer_errors(doc, "POST", "/allocate", 201, "application/json", R"({"batchref":"b1"})") ==
          std::vector<std::string>{"POST /allocate answered 201, a status the document does not list for POST /allocate"});
    CHECK(answer_errors(doc, "POST", "/allocate", 500, "application/json", R"({"message":"internal error"})").size() == 1);
    CHECK(answer_errors(doc, "POST", "/allocate", 202, "text/plain", R"({"batchref":"b1"})").size() == 1);
    CHECK(answer_errors(doc, "GET", "/metrics", 200, "text/plain; version=0.0.4; charset=utf-8", "# HELP x\n").empty());
    CHECK(answer_errors(doc, "GET", "/metrics", 200, "application/json", "{}").size() == 1);
    CHECK(answer_errors(doc, "POST", "/allocate", 400, "application/json", R"({"error":"x"})").size() == 2);
    CHECK(answer_errors(doc, "DELETE", "/allocate", 405, "application/json", R"({"message":"x"})") ==
          std::vector<std::string>{"DELETE /allocate is not a documented operation"});
}

TEST_CASE("the service's document is OpenAPI 3.0 and every reference in it resolves") {
    CHECK(doc.at("openapi").get<std::string>().starts_with("3.0."));
    CHECK(doc.at("info").contains("title"));
    std::set<std::string> refs;
    collect_refs(doc, refs);
    CHECK(refs.size() > 10);
    for (const auto& r : refs) {
        CAPTURE(r);
        CHECK(resolve(doc, r) != nullptr);
    }
}

TEST_CASE("every documented operation has an operationId and JSON answers (metrics: text), errors with a message") {
    std::set<std::string> ids;
    for (const auto& [path, item] : doc.at("paths").items()) {
        for (const auto& [method, op] : item.items()) {
            CAPTURE(path);
            CAPTURE(method);
            CHECK(ids.insert(op.at("operationId").get<std::string>()).second);
            for (const auto& [status, response] : op.at("responses").items()) {
                CAPTURE(status);
                const json* r = response.contains("$ref") ? resolve(doc, response["$ref"].get<std::string>()) : &response;
                REQUIRE(r != nullptr);
                CHECK(r->contains("description"));
                REQUIRE(r->contains("content"));
                if (path != "/metrics") CHECK(r->at("content").contains("application/json"));
                if (status.front() == '4' || status.front() == '5') {
                    CHECK(r->at("content")["application/json"]["schema"] == json{{"$ref", "#/components/schemas/Error"}});
                }
            }
        }
    }
    CHECK(ids.size() >= 10);
}

TEST_CASE("every schema of the document uses only keywords the validator checks or that only document") {
    std::vector<const json*> schemas;
    collect_schemas(doc, schemas);
    CHECK(schemas.size() > 20);
    for (const auto* s : schemas) {
        CAPTURE(s->dump());
        // A value no schema accepts shows unsupported keywords along with the mismatch.
        for (const auto& e : schema_errors(doc, *s, json::object())) CHECK(e.find("unsupported") == std::string::npos);
    }
}

}  // TEST_SUITE
}  // namespace openapi_check_tests
