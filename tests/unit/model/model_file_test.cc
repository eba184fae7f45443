// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// model/model_file.h: recognising model files and naming their content,
// checked against files that Model::save() writes.
#include "streamml/model/model_file.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "streamml/common/error.h"
#include "streamml/model/model.h"
#include "support/temp_dir.h"

namespace streamml::model {
namespace {

using streamml::testing::TempDir;

Model small_model() {
  ModelConfig config;
  config.task = Task::binary();
  config.features.num_features = 3;
  config.spec = parse_model_spec("mlp:4");
  return Model::create(config);
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(ModelFileFormat, Crc32IsTheIeeeChecksum) {
  EXPECT_EQ(model_file_crc32(""), 0u);
  EXPECT_EQ(model_file_crc32("123456789"), 0xCBF43926u);  // the CRC-32 check value
}

TEST(ModelFileFormat, HeaderRoundTripsAndMatchesSavedFiles) {
  const std::string payload = "some payload bytes";
  const std::string header = encode_model_file_header(payload);
  ASSERT_EQ(header.size(), kModelFileHeaderSize);
  EXPECT_EQ(header.substr(0, kModelFileMagic.size()), kModelFileMagic);
  const ModelFileHeader decoded = decode_model_file_header(header + payload);
  EXPECT_EQ(decoded.format_version, kModelFormatVersion);
  EXPECT_EQ(decoded.payload_length, payload.size());
  EXPECT_EQ(decoded.payload_crc, model_file_crc32(payload));

  // What Model writes has that header in front of its payload.
  const std::string file = small_model().serialize();
  ASSERT_GT(file.size(), kModelFileHeaderSize);
  const std::string_view saved_payload = std::string_view(file).substr(kModelFileHeaderSize);
  EXPECT_EQ(file.substr(0, kModelFileHeaderSize), encode_model_file_header(saved_payload));
}

TEST(ModelFileFormat, IsModelFileForASavedModelOnly) {
  TempDir dir;
  const std::string model_path = dir.file("m.model");
  small_model().save(model_path);
  EXPECT_TRUE(is_model_file(model_path));

  EXPECT_FALSE(is_model_file(dir.write("data.csv", "label,x\n1,2\n3,4\n")));
  EXPECT_FALSE(is_model_file(dir.write("empty", "")));
  EXPECT_FALSE(is_model_file(dir.write("short", "SMLMOD")));  // shorter than the magic
  EXPECT_FALSE(is_model_file(dir.write("lower", "smlmodel and more bytes after it")));
  EXPECT_FALSE(is_model_file(dir.file("missing.model")));
  EXPECT_FALSE(is_model_file(dir.path()));  // a directory
}

TEST(ModelFileFormat, HasMagicNeedsAWholeHeader) {
  const std::string file = small_model().serialize();
  EXPECT_TRUE(has_model_file_magic(file));
  EXPECT_TRUE(has_model_file_magic(file.substr(0, kModelFileHeaderSize)));
  EXPECT_FALSE(has_model_file_magic(file.substr(0, kModelFileHeaderSize - 1)));
  EXPECT_FALSE(has_model_file_magic("label,x\n1,2\n3,4\n5,6\n7,8\n"));
}

TEST(ModelFileFormat, ContentIdIsStableAndFollowsTheContent) {
  TempDir dir;
  const std::string path = dir.file("m.model");
  Model model = small_model();
  model.save(path);
  const std::string first = content_id(read_all(path), path);
  ASSERT_EQ(first.size(), 12u) << first;
  EXPECT_EQ(first.substr(0, 4), "crc-");
  EXPECT_EQ(first.find_first_not_of("0123456789abcdef", 4), std::string::npos) << first;
  // The id is the header's payload CRC.
  const std::string bytes = read_all(path);
  char expected[16];
  std::snprintf(expected, sizeof(expected), "crc-%08x",
                model_file_crc32(std::string_view(bytes).substr(kModelFileHeaderSize)));
  EXPECT_EQ(first, expected);

  // Same file, same id.
  EXPECT_EQ(content_id(read_all(path), path), first);

  // Changed content, another id.
  model.set_metadata("note", "changed");
  model.save(path);
  const std::string second = content_id(read_all(path), path);
  EXPECT_NE(second, first);
}

TEST(ModelFileFormat, ContentIdOfANonModelFileIsInputErrorNamingIt) {
  for (const std::string& bytes :
       {std::string(), std::string("SMLMODEL"), std::string("label,x\n1,2\n3,4\n5,6\n7,8\n9,10\n")}) {
    try {
      content_id(bytes, "input.bin");
      ADD_FAILURE() << "no InputError for " << bytes.size() << " bytes";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("input.bin"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace streamml::model
