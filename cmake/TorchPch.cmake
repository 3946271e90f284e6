# w2v_use_torch_pch(TARGET): TARGET's sources that reach a LibTorch header get the shared torch
# precompiled header (w2v_torch_pch); the others compile without it. Loading that header costs
# about 15 s of CPU per source, a third of a clean build when every source of a torch-linking
# target paid it. Whether a source reaches torch is found by following its quoted includes
# (relative to the file, src/ or tests/) at configure time. A stale answer after an edit costs
# only time: a source that gained a torch include still compiles without the header (slower),
# one that lost it keeps a header it does not need.

# Sets OUT to TRUE when FILE or a file it includes with quotes includes <torch/..>, <ATen/..>
# or <c10/..>. Answers are cached per file for the whole configure run.
function(_w2v_reaches_torch file out)
  get_property(cached GLOBAL PROPERTY "W2V_REACHES_TORCH:${file}" SET)
  if(cached)
    get_property(answer GLOBAL PROPERTY "W2V_REACHES_TORCH:${file}")
    set(${out} ${answer} PARENT_SCOPE)
    return()
  endif()
  # Provisional answer, so that an include cycle ends instead of recursing forever.
  set_property(GLOBAL PROPERTY "W2V_REACHES_TORCH:${file}" FALSE)
  file(STRINGS ${file} includes REGEX "^[ \t]*#[ \t]*include[ \t]*[<\"]")
  get_filename_component(dir ${file} DIRECTORY)
  set(answer FALSE)
  foreach(line IN LISTS includes)
    if(line MATCHES "<(torch|ATen|c10)/")
      set(answer TRUE)
    elseif(line MATCHES "\"([^\"]+)\"")
      set(name ${CMAKE_MATCH_1})
      foreach(candidate ${dir}/${name} ${PROJECT_SOURCE_DIR}/src/${name} ${PROJECT_SOURCE_DIR}/tests/${name})
        if(EXISTS ${candidate} AND NOT IS_DIRECTORY ${candidate})
          get_filename_component(candidate ${candidate} ABSOLUTE)
          _w2v_reaches_torch(${candidate} included)
          if(included)
            set(answer TRUE)
          endif()
          break()
        endif()
      endforeach()
    endif()
    if(answer)
      break()
    endif()
  endforeach()
  set_property(GLOBAL PROPERTY "W2V_REACHES_TORCH:${file}" ${answer})
  set(${out} ${answer} PARENT_SCOPE)
endfunction()

function(w2v_use_torch_pch target)
  target_precompile_headers(${target} REUSE_FROM w2v_torch_pch)
  get_target_property(sources ${target} SOURCES)
  get_target_property(source_dir ${target} SOURCE_DIR)
  foreach(source IN LISTS sources)
    get_filename_component(path ${source} ABSOLUTE BASE_DIR ${source_dir})
    if(NOT path MATCHES "\\.(cpp|cc|cxx)$" OR NOT EXISTS ${path})
      continue()  # headers, and sources generated at build time, keep the header
    endif()
    _w2v_reaches_torch(${path} uses_torch)
    if(NOT uses_torch)
      set_source_files_properties(${path} TARGET_DIRECTORY ${target}
                                  PROPERTIES SKIP_PRECOMPILE_HEADERS ON SKIP_UNITY_BUILD_INCLUSION ON)
    endif()
  endforeach()
  # The header's fixed cost (GCC instantiates and emits code for much of torch/torch.h in every
  # source that includes it) is paid once per batch instead of once per source.
  if(W2V_UNITY_BUILD)
    set_target_properties(${target} PROPERTIES UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE ${W2V_UNITY_BATCH_SIZE})
    # A test fixture in an anonymous namespace is fine in its own source; included into a batch
    # GCC takes that source for a header and warns about every TEST_F deriving from it.
    target_compile_options(${target} PRIVATE -Wno-subobject-linkage)
  endif()
endfunction()
